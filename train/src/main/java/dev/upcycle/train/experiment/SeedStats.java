package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.List;

/**
 * Mean and sample standard deviation (n - 1 in the denominator; 0 for one value) of a metric over
 * seeds, with the extremes for plot bands.
 */
public record SeedStats(int n, double mean, double std, double min, double max) {

  public static SeedStats of(List<Double> values) {
    checkArgument(!values.isEmpty(), "no values");
    double sum = 0;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    double mean = sum / values.size();
    double ss = 0;
    for (double v : values) {
      ss += (v - mean) * (v - mean);
    }
    double std = values.size() > 1 ? Math.sqrt(ss / (values.size() - 1)) : 0;
    return new SeedStats(values.size(), mean, std, min, max);
  }
}
