package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.List;

/**
 * The sizes of an experiment.
 *
 * @param denseSteps S, the dense model's training budget in steps
 * @param budgets extra budgets as fractions of S's compute (0.1 = +10 %), ascending
 * @param seeds the seeds every branch runs with
 * @param curve fractions of S at which the dense training itself is evaluated (its curve), ascending,
 *     ending at 1
 * @param evalBatches held-out batches per evaluation
 */
public record ExperimentPlan(long denseSteps, List<Double> budgets, List<Long> seeds, List<Double> curve,
    int evalBatches) {

  public ExperimentPlan {
    checkArgument(denseSteps >= 1, "dense steps must be >= 1, got %s", denseSteps);
    checkNotNull(budgets, "budgets");
    checkNotNull(seeds, "seeds");
    checkNotNull(curve, "curve");
    budgets = List.copyOf(budgets);
    seeds = List.copyOf(seeds);
    curve = List.copyOf(curve);
    checkArgument(!budgets.isEmpty(), "at least one budget is needed");
    checkArgument(!seeds.isEmpty(), "at least one seed is needed");
    checkArgument(seeds.stream().distinct().count() == seeds.size(), "seeds must be distinct, got %s", seeds);
    ascending("budget", budgets, 0, 10);
    ascending("dense curve point", curve, 0, 1);
    checkArgument(!curve.isEmpty() && curve.get(curve.size() - 1) == 1.0,
        "the dense curve must end at 1 (the dense budget), got %s", curve);
    checkArgument(evalBatches >= 1, "eval batches must be >= 1, got %s", evalBatches);
  }

  /** The largest extra budget. */
  public double maxBudget() {
    return budgets.get(budgets.size() - 1);
  }

  /** Percentages such as {@code "10,25,50,100"} as fractions. */
  public static List<Double> parsePercentages(String text) {
    checkNotNull(text, "text");
    List<Double> out = new ArrayList<>();
    for (String part : text.split(",")) {
      String p = part.trim();
      try {
        out.add(Double.parseDouble(p) / 100);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("budget '" + p + "' in '" + text
            + "' is not a number: expected percentages of the dense budget such as 10,25,50,100");
      }
    }
    return out;
  }

  /** Seeds 0 .. n-1. */
  public static List<Long> firstSeeds(int n) {
    checkArgument(n >= 1, "seed count must be >= 1, got %s", n);
    List<Long> out = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      out.add(i);
    }
    return out;
  }

  private static void ascending(String what, List<Double> values, double lowExclusive, double highInclusive) {
    double previous = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      checkArgument(v > lowExclusive && v <= highInclusive, "%s %s must be in (%s, %s]", what, v, lowExclusive,
          highInclusive);
      checkArgument(v > previous, "%ss must be ascending and distinct, got %s", what, values);
      previous = v;
    }
  }
}
