package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.graph.Initializer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to upcycle a dense checkpoint (DESIGN.md §4). Immutable; validated here.
 *
 * @param numExperts E, the expert count of every MoE layer (>= 1)
 * @param encoderLayout MoE layers of the {@code encoder} stack; for single-stack models (ViT,
 *     decoder-only LM) it is the layout of that one stack, as in {@code ModelSpec}
 * @param decoderLayout MoE layers of the T5 {@code decoder} stack
 * @param routerInit fresh router kernel values [d, E] (default {@code normal:0.02}), float32
 * @param noiseStddev Gaussian noise on every expert copy, relative to the dense tensor's standard
 *     deviation: {@code x + N(0, (noise · std(x))²)}; 0 = off
 * @param dropUpcyclingRatio r of Drop-Upcycling (Nakamura et al. 2025): per expert, ⌊r · width⌋
 *     d_ff units re-initialised from N(0, std(dense)²); 0 = off
 * @param granularity G: each dense MLP is cut into G chunks of its d_ff units and expert e takes
 *     chunk {@code e mod G} (width d_ff / G, scaled per {@code granularScaling}); 1 = off. E must be
 *     a multiple of G
 * @param granularScaling how the expert copies are scaled: {@link GranularScaling#WO_TIMES_G}
 *     (default: {@code wo} kernel × G) or Megatron-Core's rule ({@link GranularScaling#megatron()})
 * @param routerVirtualGroups Megatron-Core's "virtual groups" router: of the fresh router [d, E]
 *     drawn with {@code routerInit}, column j is replaced by column ⌊j / G⌋, so the G experts cut
 *     from one dense copy (experts rG … rG+G−1) share one router column; with G = 1 it is the plain
 *     draw. Default false
 * @param optimizerState RESET drops optimizer slots (the step is carried), COPY tiles the slots of
 *     MLP parameters and gives routers zero slots
 * @param seed the seed of every random choice (router, noise, dropped units)
 * @param outputFormat TF tensor bundle or T5X checkpoint folder
 */
public record UpcycleOptions(
    int numExperts,
    SparseLayout encoderLayout,
    SparseLayout decoderLayout,
    Initializer routerInit,
    double noiseStddev,
    double dropUpcyclingRatio,
    int granularity,
    GranularScaling granularScaling,
    boolean routerVirtualGroups,
    OptimizerState optimizerState,
    long seed,
    OutputFormat outputFormat) {

  /** What happens to optimizer slots. */
  public enum OptimizerState { RESET, COPY }

  /** What is written. */
  public enum OutputFormat { TF, T5X }

  public static final Initializer DEFAULT_ROUTER_INIT = Initializer.normal(0.02);

  public UpcycleOptions {
    checkArgument(numExperts >= 1, "numExperts must be >= 1, got %s", numExperts);
    checkNotNull(encoderLayout, "encoderLayout");
    checkNotNull(decoderLayout, "decoderLayout");
    checkNotNull(routerInit, "routerInit");
    checkNotNull(optimizerState, "optimizerState");
    checkNotNull(outputFormat, "outputFormat");
    checkArgument(noiseStddev >= 0 && Double.isFinite(noiseStddev), "noiseStddev must be >= 0, got %s", noiseStddev);
    checkArgument(dropUpcyclingRatio >= 0 && dropUpcyclingRatio <= 1,
        "dropUpcyclingRatio must be in [0, 1], got %s", dropUpcyclingRatio);
    checkArgument(granularity >= 1, "granularity must be >= 1, got %s", granularity);
    checkArgument(numExperts % granularity == 0,
        "numExperts %s must be a multiple of granularity %s (each of the G chunks gets E/G experts)",
        numExperts, granularity);
    checkArgument(granularity == 1 || optimizerState == OptimizerState.RESET,
        "granularity %s > 1 splits the MLP, so its optimizer slots cannot be copied: use optimizer state RESET",
        granularity);
    checkNotNull(granularScaling, "granularScaling");
    checkArgument(granularScaling.method() != GranularScaling.Method.MEGATRON || optimizerState == OptimizerState.RESET,
        "megatron scaling rescales the expert weights, so the dense optimizer slots no longer fit them:"
            + " use optimizer state RESET");
  }

  /**
   * E experts, every other layer of both stacks, normal(0.02) router without virtual groups, no
   * noise/drop/split, wo × G scaling, RESET, seed 0, TF.
   */
  public static UpcycleOptions defaults(int numExperts) {
    return new UpcycleOptions(numExperts, SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER, DEFAULT_ROUTER_INIT,
        0, 0, 1, GranularScaling.WO_TIMES_G, false, OptimizerState.RESET, 0L, OutputFormat.TF);
  }

  public UpcycleOptions withLayouts(SparseLayout encoder, SparseLayout decoder) {
    return new UpcycleOptions(numExperts, encoder, decoder, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, granularScaling, routerVirtualGroups, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withRouterInit(Initializer value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, value, noiseStddev, dropUpcyclingRatio,
        granularity, granularScaling, routerVirtualGroups, optimizerState, seed, outputFormat);
  }

  /** The router values and whether they are drawn in virtual groups, as {@code --router-init} gives them. */
  public UpcycleOptions withRouterInit(RouterInit value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, value.values(), noiseStddev, dropUpcyclingRatio,
        granularity, granularScaling, value.virtualGroups(), optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withRouterVirtualGroups(boolean value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, granularScaling, value, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withNoise(double value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, value, dropUpcyclingRatio,
        granularity, granularScaling, routerVirtualGroups, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withDropUpcycling(double ratio) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, ratio,
        granularity, granularScaling, routerVirtualGroups, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withGranularity(int value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        value, granularScaling, routerVirtualGroups, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withGranularScaling(GranularScaling value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, value, routerVirtualGroups, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withOptimizerState(OptimizerState value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, granularScaling, routerVirtualGroups, value, seed, outputFormat);
  }

  public UpcycleOptions withSeed(long value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, granularScaling, routerVirtualGroups, optimizerState, value, outputFormat);
  }

  public UpcycleOptions withOutputFormat(OutputFormat value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, granularScaling, routerVirtualGroups, optimizerState, seed, value);
  }

  /** True when expert copies are not plain byte copies (noise, drop, split or megatron scaling). */
  public boolean altersExperts() {
    return noiseStddev > 0 || dropUpcyclingRatio > 0 || granularity > 1
        || granularScaling.method() == GranularScaling.Method.MEGATRON;
  }

  /** The {@code --router-init} choice: the values and whether they are drawn in virtual groups. */
  public RouterInit routerInitChoice() {
    return new RouterInit(routerInit, routerVirtualGroups);
  }

  /**
   * A {@code --router-init} value: {@code zeros}, {@code ones}, {@code normal:STD},
   * {@code fan_in:SCALE} ({@link Initializer#parse}), or {@code virtual-groups} (normal:0.02 drawn
   * in virtual groups) / {@code virtual-groups:INIT}.
   *
   * @param values how the router values are drawn
   * @param virtualGroups whether they are then tiled in virtual groups ({@link UpcycleOptions#routerVirtualGroups})
   */
  public record RouterInit(Initializer values, boolean virtualGroups) {

    /** The spelling of the virtual groups choice: {@code virtual-groups}. */
    public static final String VIRTUAL_GROUPS = "virtual-groups";

    private static final String FORMS = "zeros, ones, normal:STD, fan_in:SCALE, " + VIRTUAL_GROUPS + " or "
        + VIRTUAL_GROUPS + ":INIT";

    public RouterInit {
      checkNotNull(values, "router values");
    }

    /** Parses a {@code --router-init} value; the error lists the forms. */
    public static RouterInit parse(String text) {
      checkNotNull(text, "router init");
      String t = text.trim();
      try {
        if (t.equalsIgnoreCase(VIRTUAL_GROUPS)) {
          return new RouterInit(DEFAULT_ROUTER_INIT, true);
        }
        if (t.regionMatches(true, 0, VIRTUAL_GROUPS + ":", 0, VIRTUAL_GROUPS.length() + 1)) {
          return new RouterInit(Initializer.parse(t.substring(VIRTUAL_GROUPS.length() + 1)), true);
        }
        return new RouterInit(Initializer.parse(t), false);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("router init '" + text + "': expected " + FORMS + " (" + e.getMessage() + ")");
      }
    }

    /** {@code normal:0.02}, or {@code virtual-groups:normal:0.02}: what {@link #parse} reads. */
    public String describe() {
      return (virtualGroups ? VIRTUAL_GROUPS + ":" : "") + UpcycleOptions.describe(values);
    }
  }

  /** The options as plain values, for provenance and reports. */
  public Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("num_experts", numExperts);
    m.put("encoder_layout", encoderLayout.toString());
    m.put("decoder_layout", decoderLayout.toString());
    m.put("router_init", describe(routerInit));
    m.put("noise_stddev", noiseStddev);
    m.put("drop_upcycling_ratio", dropUpcyclingRatio);
    m.put("granularity", granularity);
    m.put("granular_scaling", granularScaling.method().spelling());
    granularScaling.encoderRouting().ifPresent(r -> m.put("granular_scaling_encoder_router", r.describe()));
    granularScaling.decoderRouting().ifPresent(r -> m.put("granular_scaling_decoder_router", r.describe()));
    m.put("router_virtual_groups", routerVirtualGroups);
    m.put("optimizer_state", optimizerState.name().toLowerCase(java.util.Locale.ROOT));
    m.put("seed", seed);
    m.put("output_format", outputFormat.name().toLowerCase(java.util.Locale.ROOT));
    return m;
  }

  /** {@code normal:0.02}-style spelling of an initializer (what {@link Initializer#parse} reads). */
  public static String describe(Initializer init) {
    if (init instanceof Initializer.Zeros) {
      return "zeros";
    }
    if (init instanceof Initializer.Ones) {
      return "ones";
    }
    if (init instanceof Initializer.Normal n) {
      return "normal:" + n.stddev();
    }
    return "fan_in:" + ((Initializer.FanInNormal) init).scale();
  }
}
