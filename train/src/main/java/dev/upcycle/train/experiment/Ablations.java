package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.plan.UpcycleOptions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The paper's ablations (B.1–B.5 and the options this project adds) as sets of upcycled variants,
 * each derived from the task's recipe variant by changing one thing. An ablation run has the dense
 * and continuation branches as reference and no from-scratch branch. The router and capacity
 * ablations change the first stack's router ({@code moe.encoder_router.*}: ViT, the T5 encoder,
 * the LM); Top-K there uses capacity factor 1, so Top-K (K) takes the slots Expert Choice (C = K)
 * takes.
 */
public final class Ablations {

  private static final String R = "moe.encoder_router.";

  private static final Map<String, java.util.function.BiFunction<Variant, Integer, List<Variant>>> ALL = new TreeMap<>(Map.of(
      "router", (base, layers) -> router(base),
      "capacity", (base, layers) -> List.of(
          capacity(base, 1.0), capacity(base, 2.0)),
      "experts", (base, layers) -> List.of(4, 8, 16, 32).stream()
          .map(e -> base.withExperts(e).renamed("e" + e, withExpertCount(base, e))).toList(),
      "placement", (base, layers) -> List.of(
          base.withEncoderLayout("every_other").renamed("every_other", base.description() + ", every other block"),
          base.withEncoderLayout("last_" + layers / 2).renamed("last_n", base.description() + ", last blocks")),
      "optimizer-state", (base, layers) -> List.of(
          base.withOptimizerState(UpcycleOptions.OptimizerState.COPY).renamed("state-copy",
              base.description()),
          base.withOptimizerState(UpcycleOptions.OptimizerState.RESET).renamed("state-reset",
              base.description())),
      "renormalize", (base, layers) -> List.of(
          base.withRouterSettings(Map.of(R + "renormalize", "true")).renamed("renorm-on",
              base.description() + ", combine renormalised"),
          base.withRouterSettings(Map.of(R + "renormalize", "false")).renamed("renorm-off",
              base.description() + ", combine not renormalised")),
      "drop-upcycling", (base, layers) -> List.of(
          base.renamed("plain", base.description() + ", plain copies"),
          base.withOptions(o -> o.withDropUpcycling(0.5)).renamed("drop-0.5",
              base.description() + ", Drop-Upcycling r 0.5")),
      "noise", (base, layers) -> List.of(
          base.renamed("noise-0", base.description() + ", exact copies"),
          base.withOptions(o -> o.withNoise(0.01)).renamed("noise-0.01", base.description() + ", noise 0.01"),
          base.withOptions(o -> o.withNoise(0.1)).renamed("noise-0.1", base.description() + ", noise 0.1"))));

  private Ablations() {}

  /** The ablation names. */
  public static List<String> names() {
    return List.copyOf(ALL.keySet());
  }

  /**
   * The variants of ablation {@code name}, derived from {@code base}.
   *
   * @param layers the number of blocks of the first stack (the placement ablation's last-N is half of them)
   */
  public static List<Variant> variants(String name, Variant base, int layers) {
    checkNotNull(base, "base");
    java.util.function.BiFunction<Variant, Integer, List<Variant>> f = ALL.get(name);
    if (f == null) {
      throw new IllegalArgumentException("unknown ablation '" + name + "': expected one of " + names());
    }
    return f.apply(base, layers);
  }

  /**
   * The base's description for {@code experts} experts: its leading "E n" (the recipes' descriptions
   * start with it) replaced, or ", E n" appended when it has none.
   */
  static String withExpertCount(Variant base, int experts) {
    String prefix = "E " + base.experts();
    String d = base.description();
    if (d.equals(prefix) || d.startsWith(prefix + ",")) {
      return "E " + experts + d.substring(prefix.length());
    }
    return d + ", E " + experts;
  }

  private static List<Variant> router(Variant base) {
    Variant ec = base.withRouterSettings(Map.of(R + "type", "expert_choice", R + "k", "1", R + "capacity_factor", "2.0",
        R + "batch_prioritized", "false"));
    return List.of(
        ec.renamed("ec-c2", "Expert Choice C 2"),
        topK(base, 1, false), topK(base, 1, true), topK(base, 2, false), topK(base, 2, true));
  }

  private static Variant topK(Variant base, int k, boolean bpr) {
    return base.withRouterSettings(Map.of(R + "type", "top_k", R + "k", String.valueOf(k), R + "capacity_factor", "1.0",
        R + "batch_prioritized", String.valueOf(bpr)))
        .renamed("top" + k + (bpr ? "-bpr" : ""), "Top-" + k + " C 1" + (bpr ? " with BPR" : ""));
  }

  private static Variant capacity(Variant base, double c) {
    // the same settings as the router ablation's Expert Choice variant, so a variant of one name is
    // one definition (and a finished one is read back by the other ablation)
    return base.withRouterSettings(Map.of(R + "type", "expert_choice", R + "k", "1", R + "capacity_factor",
        String.valueOf(c), R + "batch_prioritized", "false")).renamed(String.format(java.util.Locale.ROOT, "ec-c%.0f", c),
        String.format(java.util.Locale.ROOT, "Expert Choice C %.0f", c));
  }
}
