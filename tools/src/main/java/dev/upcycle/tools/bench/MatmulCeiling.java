package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

/**
 * Measures the machine's f32 matrix-multiply throughput with TensorFlow Java (graph mode), the
 * ceiling that other benchmarks report their utilisation against.
 *
 * <p>One run multiplies two random {@code [n, n]} float32 matrices held in variables
 * ({@code 2 n³} FLOPs); GFLOP/s come from the median run time.
 */
public final class MatmulCeiling {

  public static final int DEFAULT_SIZE = 2048;
  static final long SEED = 20221205L;

  /** One measured setting: size, XLA on/off, per-run times (ms) and GFLOP/s at the median. */
  public record Measurement(int size, boolean xla, Timing.Stats msPerRun, double gflops) {
    public Measurement {
      checkNotNull(msPerRun, "msPerRun");
      checkArgument(Double.isFinite(gflops) && gflops > 0, "matmul gflops must be finite and > 0, got %s", gflops);
    }

    /** The result name {@code matmul/f32_<n>/<xla|noxla>}. */
    public String name() {
      return BenchResult.name("matmul", "f32_" + size, xla);
    }

    /** As a report entry with gflops and fraction of the given ceiling. */
    public BenchResult toResult(double ceilingGflops) {
      return BenchResult.timed(name(), msPerRun).withFlopsPerStep(flopsPerRun(size), ceilingGflops);
    }
  }

  private MatmulCeiling() {}

  /** {@code 2 n³}: one multiply and one add per inner-product term. */
  public static double flopsPerRun(int n) {
    return 2.0 * n * n * (double) n;
  }

  /** Measures {@code n × n} matmuls; XLA auto-clustering on or off. */
  public static Measurement measure(int n, boolean xla, Timing timing) {
    return measure(n, xla, timing, () -> {});
  }

  /** As {@link #measure(int, boolean, Timing)}, calling {@code afterEachRun} after every run (progress). */
  public static Measurement measure(int n, boolean xla, Timing timing, Runnable afterEachRun) {
    checkArgument(n >= 1, "matmul size must be >= 1, got %s", n);
    checkNotNull(timing, "timing");
    try (MatmulGraph graph = new MatmulGraph(n, xla, SEED)) {
      Timing.Stats stats = timing.measure(graph::runStep, afterEachRun);
      return new Measurement(n, xla, stats, flopsPerRun(n) / (stats.median() / 1e3) / 1e9);
    }
  }
}
