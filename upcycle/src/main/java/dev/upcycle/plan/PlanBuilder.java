package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.names.CanonicalNames;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the {@link UpcyclePlan} for a dense checkpoint (DESIGN.md §4), from canonical names and
 * shapes only (no tensor is read):
 * <ul>
 *   <li>{@code <stack>/layers_i/mlp/{wi_0,wi_1,wi,wo}/{kernel,bias}} of a layer the layout makes
 *       sparse → {@code .../mlp/expert/...} with E on a new axis 0 (TILE, or GRANULAR when G > 1);
 *   <li>one FRESH_ROUTER {@code .../mlp/router/router_weights/w/kernel} [d, E] float32 per MoE layer;
 *   <li>{@code state/step} is always carried; other {@code state/...} is dropped under RESET; under
 *       COPY the slots {@code state/param_states/<mlp param>/<slot>} of a sparse layer are tiled to
 *       {@code state/param_states/<expert param>/<slot>} [E, ...] (TILE_SLOT) and the router gets
 *       zero slots shaped like its kernel ({@code m}, {@code v}: [d, E]; {@code v_row}: [d];
 *       {@code v_col}: [E]; any other slot keeps the dense slot's shape);
 *   <li>everything else is copied unchanged.
 * </ul>
 * Stacks are the path before {@code /layers_i/}; {@code encoder} uses the encoder layout and
 * {@code decoder} the decoder layout, except in a checkpoint without an encoder stack (decoder-only
 * LM), whose one stack uses the encoder layout as {@code ModelSpec} does.
 */
public final class PlanBuilder {

  private static final Pattern LAYER = Pattern.compile("(.+)/layers_(\\d+)/.*");
  private static final Pattern MLP_PARAM = Pattern.compile(
      "((.+)/layers_(\\d+)/" + CanonicalNames.MLP + ")/(wi_0|wi_1|wi|wo)/(kernel|bias)");
  private static final Pattern SLOT = Pattern.compile(
      Pattern.quote(CanonicalNames.PARAM_STATES + "/") + "(.+)/([^/]+)");

  private PlanBuilder() {}

  /** The plan for canonical source tensors with nothing dropped or unmapped by a name map. */
  public static UpcyclePlan build(List<TensorInfo> source, UpcycleOptions options) {
    return build(source, List.of(), List.of(), options);
  }

  /** The plan for what a canonicalising reader lists, with the tensors its map dropped or missed. */
  public static UpcyclePlan build(RenamingReader reader, UpcycleOptions options) {
    checkNotNull(reader, "reader");
    return build(reader.tensors(), reader.dropped(), reader.unmapped().stream().map(RenamingReader.Excluded::stored).toList(),
        options);
  }

  private static UpcyclePlan build(List<TensorInfo> source, List<RenamingReader.Excluded> droppedByMap,
      List<TensorInfo> unmapped, UpcycleOptions options) {
    checkNotNull(source, "source");
    checkNotNull(options, "options");
    List<String> problems = new ArrayList<>();
    Set<String> sparse = sparseMlps(source, options, problems);
    if (sparse.isEmpty() && problems.isEmpty()) {
      problems.add(nothingToUpcycle(source, options));
    }
    Map<String, TensorInfo> byName = new LinkedHashMap<>();
    source.forEach(t -> byName.putIfAbsent(t.name(), t));
    int e = options.numExperts();
    int g = options.granularity();
    boolean copyState = options.optimizerState() == UpcycleOptions.OptimizerState.COPY;

    List<Rule> rules = new ArrayList<>();
    List<TensorInfo> sources = new ArrayList<>(source);
    for (RenamingReader.Excluded d : droppedByMap) {
      rules.add(Rule.drop(d.stored(), "dropped by name map rule " + d.rule()));
      sources.add(d.stored());
    }
    Map<String, List<TensorInfo>> mlpParams = new TreeMap<>();
    for (TensorInfo t : source) {
      String name = t.name();
      Matcher mlp = MLP_PARAM.matcher(name);
      Matcher slot = SLOT.matcher(name);
      if (name.equals(CanonicalNames.STEP)) {
        rules.add(Rule.copy(t, "step counter carried"));
      } else if (CanonicalNames.isState(name)) {
        if (!copyState) {
          rules.add(Rule.drop(t, "optimizer state reset"));
        } else if (slot.matches() && MLP_PARAM.matcher(slot.group(1)).matches()
            && sparse.contains(mlpPrefix(slot.group(1)))) {
          String param = slot.group(1);
          rules.add(new Rule(Rule.Kind.TILE_SLOT, t,
              new TensorInfo(CanonicalNames.slot(expertName(param), slot.group(2)), t.dtype(), prepend(e, t.shape())),
              -1, mlpPrefix(param), 1.0, "optimizer slot tiled to " + e + " experts"));
        } else {
          rules.add(Rule.copy(t, "optimizer state copied"));
        }
      } else if (mlp.matches() && sparse.contains(mlp.group(1))) {
        mlpParams.computeIfAbsent(mlp.group(1), k -> new ArrayList<>()).add(t);
        int ffAxis = ffAxis(mlp.group(4), mlp.group(5));
        long[] shape = t.shape();
        if (ffAxis >= shape.length) {
          problems.add("tensor " + name + " has shape " + Arrays.toString(shape) + "; expected "
              + (mlp.group(5).equals("kernel") ? "a 2-D kernel" : "a 1-D bias"));
          ffAxis = -1;
        }
        double scale = scale(options, mlp.group(2), mlp.group(4), mlp.group(5),
            byName.containsKey(mlp.group(1) + "/wi_0/kernel"), problems);
        String scaled = scale == 1.0 ? "" : ", scaled by " + (scale == Math.rint(scale) ? Long.toString((long) scale)
            : String.format(java.util.Locale.ROOT, "%.6g", scale)) + " (" + options.granularScaling().method().spelling()
            + ")";
        Rule.Kind kind = Rule.Kind.TILE;
        String note = "tiled to " + e + " experts" + scaled;
        if (g > 1) {
          kind = Rule.Kind.GRANULAR;
          note = "split into " + g + " chunks of d_ff, expert e takes chunk e mod " + g + scaled;
          if (ffAxis >= 0) {
            if (shape[ffAxis] % g != 0) {
              problems.add("tensor " + name + ": d_ff " + shape[ffAxis] + " is not divisible by granularity " + g);
            } else {
              shape[ffAxis] /= g;
            }
          }
        }
        rules.add(new Rule(kind, t, new TensorInfo(expertName(name), t.dtype(), prepend(e, shape)), ffAxis,
            mlp.group(1), scale, note));
      } else {
        rules.add(Rule.copy(t, "copied"));
      }
    }
    for (String prefix : sparse) {
      List<TensorInfo> params = mlpParams.getOrDefault(prefix, List.of());
      Optional<TensorInfo> wi = params.stream()
          .filter(p -> p.name().equals(prefix + "/wi_0/kernel") || p.name().equals(prefix + "/wi/kernel")).findFirst();
      Optional<TensorInfo> wo = params.stream().filter(p -> p.name().equals(prefix + "/wo/kernel")).findFirst();
      if (wi.isEmpty() || wo.isEmpty()) {
        problems.add("MoE layer " + prefix + " needs a dense MLP (" + prefix + "/wi_0/kernel or " + prefix
            + "/wi/kernel, and " + prefix + "/wo/kernel); found " + params.stream().map(TensorInfo::name).toList()
            + (byName.keySet().stream().anyMatch(n -> n.startsWith(CanonicalNames.experts(prefix) + "/"))
                ? " (this layer is already an MoE layer)" : ""));
        continue;
      }
      long[] wiShape = wi.get().shape();
      long[] woShape = wo.get().shape();
      if (wiShape.length != 2 || woShape.length != 2 || wiShape[1] != woShape[0] || wiShape[0] != woShape[1]) {
        problems.add("MoE layer " + prefix + ": " + wi.get() + " and " + wo.get()
            + " do not form an MLP [d, d_ff] / [d_ff, d]");
        continue;
      }
      long d = wiShape[0];
      String router = CanonicalNames.router(prefix);
      rules.add(new Rule(Rule.Kind.FRESH_ROUTER, null, new TensorInfo(router, DType.FLOAT32, new long[] {d, e}), -1,
          prefix, 1.0, "fresh router " + options.routerInitChoice().describe()
              + (options.routerVirtualGroups() ? " (column j = column j div " + g + ")" : "")));
      if (copyState) {
        String slotPrefix = CanonicalNames.slotPrefix(wi.get().name());
        for (TensorInfo s : source) {
          if (!s.name().startsWith(slotPrefix) || s.name().indexOf('/', slotPrefix.length()) >= 0) {
            continue;
          }
          String slotName = s.name().substring(slotPrefix.length());
          long[] shape = routerSlotShape(slotName, s.shape(), wiShape, e);
          rules.add(new Rule(Rule.Kind.FRESH_SLOT, null, new TensorInfo(CanonicalNames.slot(router, slotName),
              DType.FLOAT32, shape), -1, prefix, 1.0, "fresh router slot (zeros)"));
        }
      }
    }
    return new UpcyclePlan(options, rules, sources, unmapped, problems);
  }

  /**
   * The factor of the expert copies of {@code weight}/{@code leaf} of an MLP in {@code stack}
   * ({@link GranularScaling#factor}); 1, with a problem named once per stack, when megatron scaling
   * lacks the stack's router.
   */
  private static double scale(UpcycleOptions options, String stack, String weight, String leaf, boolean gated,
      List<String> problems) {
    try {
      return options.granularScaling().factor(stack, weight, leaf, gated, options.numExperts(), options.granularity());
    } catch (IllegalArgumentException e) {
      if (!problems.contains(e.getMessage())) {
        problems.add(e.getMessage());
      }
      return 1.0;
    }
  }

  /** {@code a/layers_1/mlp/wi_0/kernel} → {@code a/layers_1/mlp/expert/wi_0/kernel}. */
  public static String expertName(String denseMlpParam) {
    Matcher m = MLP_PARAM.matcher(denseMlpParam);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + denseMlpParam + "' is not a dense MLP parameter name");
    }
    return CanonicalNames.expertOf(m.group(1), m.group(4) + "/" + m.group(5));
  }

  private static String mlpPrefix(String param) {
    Matcher m = MLP_PARAM.matcher(param);
    return m.matches() ? m.group(1) : null;
  }

  private static int ffAxis(String param, String leaf) {
    if (param.equals("wo")) {
      return leaf.equals("kernel") ? 0 : -1;
    }
    return leaf.equals("kernel") ? 1 : 0;
  }

  private static long[] routerSlotShape(String slot, long[] denseSlot, long[] wiShape, int e) {
    if (Arrays.equals(denseSlot, wiShape)) {
      return new long[] {wiShape[0], e};
    }
    if (slot.equals(CanonicalNames.V_ROW) && denseSlot.length == 1 && denseSlot[0] == wiShape[0]) {
      return new long[] {wiShape[0]};
    }
    if (slot.equals(CanonicalNames.V_COL) && denseSlot.length == 1 && denseSlot[0] == wiShape[1]) {
      return new long[] {e};
    }
    return denseSlot;
  }

  /**
   * Why a plan with no MoE layer is refused (issue 14: it wrote a copy of the source and exited 0):
   * the layouts, the layers they had to choose from, and the dense MLPs the source holds.
   */
  private static String nothingToUpcycle(List<TensorInfo> source, UpcycleOptions options) {
    Map<String, Integer> layers = new TreeMap<>();
    Set<String> mlps = new TreeSet<>();
    for (TensorInfo t : source) {
      if (CanonicalNames.isState(t.name())) {
        continue;
      }
      Matcher m = LAYER.matcher(t.name());
      if (m.matches()) {
        layers.merge(m.group(1), Integer.parseInt(m.group(2)) + 1, Math::max);
      }
      Matcher mlp = MLP_PARAM.matcher(t.name());
      if (mlp.matches()) {
        mlps.add(mlp.group(1));
      }
    }
    return "nothing to upcycle: the layouts (encoder " + options.encoderLayout() + ", decoder "
        + options.decoderLayout() + ") choose no MoE layer in this checkpoint (layers per stack: "
        + (layers.isEmpty() ? "none" : layers) + "); its dense MLPs: " + (mlps.isEmpty() ? "none" : mlps)
        + ". Choose layers that have an MLP (--layout / --decoder-layout: every_other, last_N or a list)";
  }

  /** MLP prefixes ({@code encoder/layers_1/mlp}) of the layers the options make sparse. */
  private static Set<String> sparseMlps(List<TensorInfo> source, UpcycleOptions options, List<String> problems) {
    Map<String, Integer> layers = new TreeMap<>();
    for (TensorInfo t : source) {
      Matcher m = LAYER.matcher(t.name());
      if (!CanonicalNames.isState(t.name()) && m.matches()) {
        layers.merge(m.group(1), Integer.parseInt(m.group(2)) + 1, Math::max);
      }
    }
    boolean hasEncoder = layers.containsKey("encoder");
    Set<String> out = new TreeSet<>();
    for (Map.Entry<String, Integer> stack : layers.entrySet()) {
      SparseLayout layout = switch (stack.getKey()) {
        case "encoder" -> options.encoderLayout();
        case "decoder" -> hasEncoder ? options.decoderLayout() : options.encoderLayout();
        default -> SparseLayout.DENSE;
      };
      try {
        for (int i : layout.sparseLayers(stack.getValue())) {
          out.add(CanonicalNames.mlp(stack.getKey() + "/layers_" + i));
        }
      } catch (IllegalArgumentException e) {
        problems.add("layout " + layout + " does not fit stack '" + stack.getKey() + "' of " + stack.getValue()
            + " layers: " + e.getMessage());
      }
    }
    return out;
  }

  static long[] prepend(long first, long[] rest) {
    long[] out = new long[rest.length + 1];
    out[0] = first;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }
}
