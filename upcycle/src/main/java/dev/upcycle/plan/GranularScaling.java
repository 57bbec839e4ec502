package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.config.RouterSection;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How the expert copies of a dense MLP are scaled ({@link UpcycleOptions#granularScaling}).
 *
 * <ul>
 *   <li>{@link Method#WO_TIMES_G} (the default): only the {@code wo} kernel of each chunk is
 *       multiplied by G. With G = 1 nothing is scaled.
 *   <li>{@link Method#MEGATRON}: Megatron-Core's rule ({@code _get_moe_activation_scale} and
 *       {@code _get_weight_scale} in {@code megatron/core/transformer/moe/upcycling_utils.py} of
 *       NVIDIA/Megatron-LM, read at commit d98e8a64ddf34856e74b24714e3bedb2f5a39553; the file last
 *       changed in a4417a5f7b23fd59056fd98f81a283263fa1dc64; He et al. 2024, arXiv:2410.07524).
 *       The activation scale is {@code s = expansion_rate · G² / topk} when the router applies
 *       softmax before top-K ({@code moe_router_pre_softmax}), else {@code s = G}; upstream's
 *       expansion_rate is E / G (dense copies), so in our terms {@code s = E·G/K} with E the total
 *       expert count. Gated MLPs (T5 v1.1: {@code wi_0}, {@code wi_1}, {@code wo} kernels) are
 *       multiplied by {@code s^(1/3)}, non-gated ones (ViT: {@code wi} kernel and {@code wi} bias —
 *       upstream scales fc1's bias with its weight — and {@code wo} kernel) by {@code s^(1/2)};
 *       {@code wo} bias is copied unscaled. Upstream applies it at every G, G = 1 included.
 * </ul>
 *
 * <p>s depends on the router the MoE is trained with, per stack: {@link Routing}. Our top-K router
 * without renormalisation takes softmax probabilities before top-K (upstream's pre-softmax case,
 * K = k); with renormalisation each token's weights sum to 1 over its experts, as upstream's
 * top-K-then-softmax (s = G). Expert Choice takes softmax probabilities over experts and each
 * expert then keeps its top round(C·S/E) tokens, so a token is processed by C experts on average
 * (Zhou et al. 2022: "the capacity factor c denotes on average how many experts are utilized by a
 * token"): without renormalisation it is the pre-softmax case with K = C, with renormalisation
 * s = G.
 *
 * @param method the rule
 * @param encoderRouting the router of the {@code encoder} stack (T5 encoder, ViT), MEGATRON only;
 *     empty under MEGATRON = the source's recipe router, filled in by {@link ConvertJob}
 * @param decoderRouting the router of the {@code decoder} stack (T5 decoder, decoder-only LM), likewise
 */
public record GranularScaling(Method method, Optional<Routing> encoderRouting, Optional<Routing> decoderRouting) {

  /** The rules. */
  public enum Method {
    /** {@code wo} kernel × G. */
    WO_TIMES_G("wo-times-g"),
    /** Megatron-Core: s^(1/3) (gated) or s^(1/2) on the MLP's weights. */
    MEGATRON("megatron");

    private final String spelling;

    Method(String spelling) {
      this.spelling = spelling;
    }

    /** The flag's spelling: {@code wo-times-g}, {@code megatron}. */
    public String spelling() {
      return spelling;
    }

    /** Parses a spelling (case-insensitive); the error lists the choices. */
    public static Method parse(String text) {
      checkNotNull(text, "granular scaling");
      for (Method m : values()) {
        if (m.spelling.equalsIgnoreCase(text.trim())) {
          return m;
        }
      }
      throw new IllegalArgumentException("granular scaling '" + text + "': expected one of " + choices());
    }

    /** {@code wo-times-g, megatron}. */
    public static String choices() {
      return Arrays.stream(values()).map(Method::spelling).collect(Collectors.joining(", "));
    }
  }

  /**
   * What s depends on for one stack's router.
   *
   * @param type top-K or Expert Choice
   * @param perToken experts per token: K (top-K) or the capacity factor C (Expert Choice: the
   *     average number of experts a token is processed by)
   * @param renormalized each token's combine weights are divided by their sum (upstream's
   *     top-K-then-softmax); false: they are the softmax probabilities (softmax before top-K)
   */
  public record Routing(RouterType type, double perToken, boolean renormalized) {

    private static final String FORMS = "top_k:K, top_k:K:renormalize, expert_choice:C or expert_choice:C:renormalize";

    public Routing {
      checkNotNull(type, "router type");
      checkArgument(perToken > 0 && Double.isFinite(perToken), "experts per token must be > 0, got %s", perToken);
      checkArgument(type != RouterType.TOP_K || perToken == Math.rint(perToken), "top-K needs a whole K, got %s",
          perToken);
    }

    /** The facts of a router config: k (top-K) or C (Expert Choice), and its renormalisation. */
    public static Routing of(RouterConfig r) {
      checkNotNull(r, "router config");
      return new Routing(r.type(), r.type() == RouterType.TOP_K ? r.k() : r.capacityFactor(), r.renormalize());
    }

    /** Parses {@link #describe()}'s form: {@code top_k:2}, {@code expert_choice:2:renormalize}, …. */
    public static Routing parse(String text) {
      checkNotNull(text, "router");
      String[] parts = text.trim().split(":", -1);
      checkArgument(parts.length == 2 || parts.length == 3 && parts[2].equalsIgnoreCase("renormalize"),
          "router '%s': expected %s", text, FORMS);
      RouterType type;
      double n;
      try {
        type = RouterSection.routerType(parts[0]);
        n = Double.parseDouble(parts[1]);
        return new Routing(type, n, parts.length == 3);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("router '" + text + "': " + e.getMessage() + " (expected " + FORMS + ")");
      }
    }

    /** {@code top_k:2}, {@code expert_choice:2.0:renormalize}. */
    public String describe() {
      String n = type == RouterType.TOP_K ? Long.toString((long) perToken) : Double.toString(perToken);
      return RouterSection.typeName(type) + ":" + n + (renormalized ? ":renormalize" : "");
    }
  }

  /** Today's rule: {@code wo} kernel × G. */
  public static final GranularScaling WO_TIMES_G = new GranularScaling(Method.WO_TIMES_G, Optional.empty(),
      Optional.empty());

  /** The stack whose router is {@link #decoderRouting} (T5 decoder, decoder-only LM). */
  static final String DECODER_STACK = "decoder";

  public GranularScaling {
    checkNotNull(method, "method");
    checkNotNull(encoderRouting, "encoderRouting");
    checkNotNull(decoderRouting, "decoderRouting");
    checkArgument(method == Method.MEGATRON || encoderRouting.isEmpty() && decoderRouting.isEmpty(),
        "the routers only matter to megatron scaling, not to %s", method.spelling());
    decoderRouting.ifPresent(r -> checkArgument(r.type() != RouterType.EXPERT_CHOICE,
        "the decoder stack cannot use expert choice routing (it is causal): got %s", r.describe()));
  }

  /** Megatron's rule, with the routers of the source's recipe ({@link ConvertJob} fills them in). */
  public static GranularScaling megatron() {
    return new GranularScaling(Method.MEGATRON, Optional.empty(), Optional.empty());
  }

  /** Megatron's rule for these routers. */
  public static GranularScaling megatron(Routing encoder, Routing decoder) {
    return new GranularScaling(Method.MEGATRON, Optional.of(encoder), Optional.of(decoder));
  }

  /** Megatron's rule for the routers of an MoE config's stacks. */
  public static GranularScaling megatron(RouterConfig encoder, RouterConfig decoder) {
    return megatron(Routing.of(encoder), Routing.of(decoder));
  }

  /** This rule with the routers that are still empty set to these (MEGATRON; others unchanged). */
  public GranularScaling withDefaultRouting(RouterConfig encoder, RouterConfig decoder) {
    if (method != Method.MEGATRON) {
      return this;
    }
    return new GranularScaling(method, Optional.of(encoderRouting.orElseGet(() -> Routing.of(encoder))),
        Optional.of(decoderRouting.orElseGet(() -> Routing.of(decoder))));
  }

  /** True when a router is still to be filled in. */
  public boolean needsRouting() {
    return method == Method.MEGATRON && (encoderRouting.isEmpty() || decoderRouting.isEmpty());
  }

  /** The router of a stack ({@code decoder} → decoder, any other → encoder); empty when not given. */
  public Optional<Routing> routing(String stack) {
    return DECODER_STACK.equals(stack) ? decoderRouting : encoderRouting;
  }

  /**
   * Megatron's activation scale s for a layer of {@code experts} experts cut at granularity
   * {@code g}: G when the weights are renormalised, else E·G/K ({@code (E/G)·G²/K} upstream).
   */
  public static double activationScale(Routing routing, int experts, int g) {
    checkArgument(experts >= 1 && g >= 1 && experts % g == 0, "experts %s must be a multiple of g %s", experts, g);
    return routing.renormalized() ? g : (double) experts * g / routing.perToken();
  }

  /**
   * The factor that expert copies of dense MLP parameter {@code weight}/{@code leaf} ({@code wi_0},
   * {@code wi_1}, {@code wi}, {@code wo} / {@code kernel}, {@code bias}) of an MLP in {@code stack}
   * are multiplied by.
   *
   * @param gated the MLP is gated ({@code wi_0}/{@code wi_1}); else it has one {@code wi}
   * @throws IllegalArgumentException under MEGATRON when the stack's router is not known
   */
  public double factor(String stack, String weight, String leaf, boolean gated, int experts, int g) {
    boolean woKernel = weight.equals("wo") && leaf.equals("kernel");
    if (method == Method.WO_TIMES_G) {
      return woKernel ? g : 1.0;
    }
    if (weight.equals("wo") && !woKernel) {
      return 1.0; // wo bias: repeated unscaled upstream
    }
    Routing r = routing(stack).orElseThrow(() -> new IllegalArgumentException("megatron scaling of the " + stack
        + " stack needs its router (" + Routing.FORMS + "): none was given and the source's model spec is unknown;"
        + " give it (convert --scaling-router / --decoder-scaling-router)"));
    double s = activationScale(r, experts, g);
    return gated ? Math.cbrt(s) : Math.sqrt(s);
  }

  /** {@code wo-times-g}, or {@code megatron (encoder expert_choice:2.0, decoder top_k:2)}. */
  public String describe() {
    if (method == Method.WO_TIMES_G) {
      return method.spelling();
    }
    return method.spelling() + " (encoder " + encoderRouting.map(Routing::describe).orElse("from the source's spec")
        + ", decoder " + decoderRouting.map(Routing::describe).orElse("from the source's spec") + ")";
  }
}
