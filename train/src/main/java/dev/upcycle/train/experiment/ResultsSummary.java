package dev.upcycle.train.experiment;

import dev.upcycle.ckpt.Folders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * The markdown summary of an experiment: the dense curve, then per extra budget each branch's
 * held-out accuracy and cross-entropy as mean ± sample std over seeds, its steps and its training
 * wall time.
 */
public final class ResultsSummary {

  private ResultsSummary() {}

  /**
   * The summary as markdown.
   *
   * @param header lines put first (title, command, machine)
   */
  public static String markdown(List<String> header, ExperimentTask task, ExperimentPlan plan,
      List<EvalPoint> points) {
    StringBuilder md = new StringBuilder();
    header.forEach(h -> md.append(h).append('\n'));
    md.append('\n').append(String.format(Locale.ROOT, "%s. Dense budget S = %,d steps; extra budgets %s of S;"
        + " seeds %s; %d held-out batches per evaluation. %s%n", task.description(),
        plan.denseSteps(), percentages(plan.budgets()), plan.seeds(), plan.evalBatches(),
        plan.seeds().size() == 1 ? "One seed: values without a spread." : "Mean ± sample std over seeds."));

    Map<String, List<EvalPoint>> byBranch = new LinkedHashMap<>();
    points.forEach(p -> byBranch.computeIfAbsent(p.branch(), k -> new ArrayList<>()).add(p));

    List<EvalPoint> dense = byBranch.getOrDefault(BranchPlanner.DENSE, List.of());
    if (!dense.isEmpty()) {
      md.append("\n### Dense training curve\n\n| fraction of S | step | ").append(task.accuracyName())
          .append(" | cross-entropy |\n|---|---|---|---|\n");
      for (Map.Entry<Long, List<EvalPoint>> e : byStep(dense).entrySet()) {
        EvalPoint first = e.getValue().get(0);
        md.append(String.format(Locale.ROOT, "| %.2f | %,d | %s | %s |%n", first.budget() + 1, e.getKey(),
            cell(e.getValue(), p -> 100 * p.accuracy(), 2), cell(e.getValue(), EvalPoint::crossEntropy, 4)));
      }
    }
    table(md, task.accuracyName() + " (%)", byBranch, p -> 100 * p.accuracy(), 2, plan);
    table(md, "held-out cross-entropy", byBranch, EvalPoint::crossEntropy, 4, plan);

    md.append("\n### Steps and training wall time per branch\n\n| branch | budget | steps | extra compute"
        + " (FLOPs) | wall s (mean) | ms/step |\n|---|---|---|---|---|---|\n");
    for (Map.Entry<String, List<EvalPoint>> b : byBranch.entrySet()) {
      for (Map.Entry<Long, List<EvalPoint>> e : byStep(b.getValue()).entrySet()) {
        List<EvalPoint> at = e.getValue();
        EvalPoint first = at.get(0);
        double wall = SeedStats.of(at.stream().map(EvalPoint::wallSeconds).toList()).mean();
        md.append(String.format(Locale.ROOT, "| %s | %s | %,d | %+.1f %% | %.1f | %.1f |%n", b.getKey(),
            budgetLabel(first), first.branchSteps(), 100 * first.extraCompute(), wall,
            1000 * wall / Math.max(1, first.branchSteps())));
      }
    }
    return md.toString();
  }

  /** Writes {@link #markdown} to {@code file} atomically. */
  public static void write(Path file, List<String> header, ExperimentTask task, ExperimentPlan plan,
      List<EvalPoint> points) throws IOException {
    Files.deleteIfExists(file);
    Folders.writeAtomically(file, markdown(header, task, plan, points).getBytes(StandardCharsets.UTF_8));
  }

  private static void table(StringBuilder md, String metricName, Map<String, List<EvalPoint>> byBranch,
      ToDoubleFunction<EvalPoint> metric, int digits, ExperimentPlan plan) {
    md.append("\n### ").append(metricName).append(" at each extra budget\n\n| branch |");
    plan.budgets().forEach(b -> md.append(String.format(Locale.ROOT, " +%.0f %% |", 100 * b)));
    md.append("\n|---|");
    plan.budgets().forEach(b -> md.append("---|"));
    md.append('\n');
    for (Map.Entry<String, List<EvalPoint>> b : byBranch.entrySet()) {
      if (b.getKey().equals(BranchPlanner.DENSE)) {
        continue;
      }
      md.append("| ").append(b.getKey()).append(" |");
      for (double budget : plan.budgets()) {
        List<EvalPoint> at = b.getValue().stream().filter(p -> Math.abs(p.budget() - budget) < 1e-9).toList();
        md.append(' ').append(at.isEmpty() ? "–" : cell(at, metric, digits)).append(" |");
      }
      md.append('\n');
    }
  }

  private static String cell(List<EvalPoint> at, ToDoubleFunction<EvalPoint> metric, int digits) {
    List<Double> values = at.stream().map(metric::applyAsDouble).toList();
    SeedStats s = SeedStats.of(values);
    if (values.size() == 1) { // a sample std of one value is undefined, not 0
      return String.format(Locale.ROOT, "%." + digits + "f", s.mean());
    }
    return String.format(Locale.ROOT, "%." + digits + "f ± %." + digits + "f", s.mean(), s.std());
  }

  private static TreeMap<Long, List<EvalPoint>> byStep(List<EvalPoint> points) {
    TreeMap<Long, List<EvalPoint>> out = new TreeMap<>();
    points.forEach(p -> out.computeIfAbsent(p.step(), k -> new ArrayList<>()).add(p));
    return out;
  }

  private static String budgetLabel(EvalPoint p) {
    return p.kind() == BranchKind.DENSE ? String.format(Locale.ROOT, "%.2f S", p.budget() + 1)
        : String.format(Locale.ROOT, "+%.0f %%", 100 * p.budget());
  }

  private static String percentages(List<Double> budgets) {
    return String.join(", ", budgets.stream().map(b -> String.format(Locale.ROOT, "%.0f %%", 100 * b)).toList());
  }
}
