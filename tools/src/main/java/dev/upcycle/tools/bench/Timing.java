package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * Runs a step {@code warmup} times untimed, then {@code repeats} times timed, and reports the
 * median, minimum and maximum wall time per step in milliseconds.
 */
public final class Timing {

  public static final int DEFAULT_WARMUP = 2;
  public static final int DEFAULT_REPEATS = 5;

  private final int warmup;
  private final int repeats;
  private final LongSupplier nanoClock;

  /** Per-step times in milliseconds; serialised as {@code {"median":..,"min":..,"max":..}}. */
  @JsonPropertyOrder({"median", "min", "max"})
  public record Stats(double median, double min, double max) {
    public Stats {
      checkArgument(Double.isFinite(median) && Double.isFinite(min) && Double.isFinite(max),
          "timing stats must be finite, got median %s min %s max %s", median, min, max);
      checkArgument(min <= median && median <= max,
          "timing stats need min <= median <= max, got %s, %s, %s", min, median, max);
    }

    /** Statistics of the given samples (milliseconds); the median of an even count is the mean of the middle two. */
    public static Stats of(double... samplesMs) {
      checkArgument(samplesMs.length > 0, "timing needs at least one sample");
      double[] s = samplesMs.clone();
      Arrays.sort(s);
      int n = s.length;
      double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
      return new Stats(median, s[0], s[n - 1]);
    }
  }

  public Timing(int warmup, int repeats) {
    this(warmup, repeats, System::nanoTime);
  }

  /** With an explicit monotonic nanosecond clock (for tests). */
  public Timing(int warmup, int repeats, LongSupplier nanoClock) {
    checkArgument(warmup >= 0, "warmup runs must be >= 0, got %s", warmup);
    checkArgument(repeats >= 1, "timed repetitions must be >= 1, got %s", repeats);
    this.warmup = warmup;
    this.repeats = repeats;
    this.nanoClock = checkNotNull(nanoClock, "nanoClock");
  }

  public int warmup() {
    return warmup;
  }

  public int repeats() {
    return repeats;
  }

  /** Total runs of the step, warmup included. */
  public int totalRuns() {
    return warmup + repeats;
  }

  public Stats measure(Runnable step) {
    return measure(step, () -> {});
  }

  /**
   * Runs the step {@link #totalRuns()} times; {@code afterEachRun} (e.g. a progress tick) is
   * called after every run, outside the timed interval.
   */
  public Stats measure(Runnable step, Runnable afterEachRun) {
    checkNotNull(step, "step");
    checkNotNull(afterEachRun, "afterEachRun");
    for (int i = 0; i < warmup; i++) {
      step.run();
      afterEachRun.run();
    }
    double[] ms = new double[repeats];
    for (int i = 0; i < repeats; i++) {
      long t0 = nanoClock.getAsLong();
      step.run();
      ms[i] = (nanoClock.getAsLong() - t0) / 1e6;
      afterEachRun.run();
    }
    return Stats.of(ms);
  }
}
