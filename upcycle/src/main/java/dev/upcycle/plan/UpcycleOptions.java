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
 *     chunk {@code e mod G} (width d_ff / G, {@code wo} scaled by G); 1 = off. E must be a multiple
 *     of G
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
  }

  /** E experts, every other layer of both stacks, normal(0.02) router, no noise/drop/split, RESET, seed 0, TF. */
  public static UpcycleOptions defaults(int numExperts) {
    return new UpcycleOptions(numExperts, SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER, DEFAULT_ROUTER_INIT,
        0, 0, 1, OptimizerState.RESET, 0L, OutputFormat.TF);
  }

  public UpcycleOptions withLayouts(SparseLayout encoder, SparseLayout decoder) {
    return new UpcycleOptions(numExperts, encoder, decoder, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withRouterInit(Initializer value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, value, noiseStddev, dropUpcyclingRatio,
        granularity, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withNoise(double value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, value, dropUpcyclingRatio,
        granularity, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withDropUpcycling(double ratio) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, ratio,
        granularity, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withGranularity(int value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        value, optimizerState, seed, outputFormat);
  }

  public UpcycleOptions withOptimizerState(OptimizerState value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, value, seed, outputFormat);
  }

  public UpcycleOptions withSeed(long value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, optimizerState, value, outputFormat);
  }

  public UpcycleOptions withOutputFormat(OutputFormat value) {
    return new UpcycleOptions(numExperts, encoderLayout, decoderLayout, routerInit, noiseStddev, dropUpcyclingRatio,
        granularity, optimizerState, seed, value);
  }

  /** True when expert copies are not plain byte copies (noise, drop or split). */
  public boolean altersExperts() {
    return noiseStddev > 0 || dropUpcyclingRatio > 0 || granularity > 1;
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
