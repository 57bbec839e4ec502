package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs an experiment: per seed the dense branch, then every branch that starts from its checkpoint
 * and the from-scratch branches ({@link BranchPlanner}), each in {@code <out>/seed_<n>/<branch>/}
 * through {@link BranchRunner} (finished branches are read back, not re-run); then writes
 * {@code results.csv}, {@code summary.md} and the plots into {@code out}.
 */
public final class Experiment {

  /**
   * What to run.
   *
   * @param out the branches' folder ({@code seed_<n>/<branch>/}); runs that share it share their finished branches
   * @param results where {@code results.csv}, {@code summary.md} and {@code plots/} go
   * @param plan sizes and seeds
   * @param upcycled the upcycled branches' MoE variants
   * @param scratch the from-scratch branches' MoE variants
   * @param header the summary's first lines (title, command, machine)
   */
  public record Settings(Path out, Path results, ExperimentPlan plan, List<Variant> upcycled, List<Variant> scratch,
      List<String> header) {
    public Settings {
      checkNotNull(out, "out");
      checkNotNull(results, "results");
      checkNotNull(plan, "plan");
      upcycled = List.copyOf(upcycled);
      scratch = List.copyOf(scratch);
      header = List.copyOf(header);
      checkArgument(upcycled.stream().map(Variant::name).distinct().count() == upcycled.size(),
          "upcycled variant names must be distinct");
      checkArgument(scratch.stream().map(Variant::name).distinct().count() == scratch.size(),
          "from-scratch variant names must be distinct");
    }
  }

  /** What was written. */
  public record Result(List<EvalPoint> points, Path csv, Path summary, List<Path> plots, double wallSeconds,
      int branchesRun, int branchesReused) {}

  public static final String CSV = "results.csv";
  public static final String SUMMARY = "summary.md";

  private Experiment() {}

  public static Result run(ExperimentTask task, Settings s, Consumer<String> log) throws IOException {
    checkNotNull(task, "task");
    checkNotNull(s, "settings");
    checkNotNull(log, "log");
    long t0 = System.nanoTime();
    BranchPlanner planner = new BranchPlanner(task, s.plan());
    BranchRunner runner = new BranchRunner(task, s.plan().evalBatches(), log);
    int total = s.plan().seeds().size() * (2 + s.upcycled().size() + s.scratch().size());
    int index = 0;
    int ran = 0;
    int reused = 0;
    List<EvalPoint> points = new ArrayList<>();
    // the upcycled runs of the first seed, whose per-expert load is plotted
    java.util.Map<String, Path> loadRuns = new java.util.LinkedHashMap<>();
    Files.createDirectories(s.out());
    for (long seed : s.plan().seeds()) {
      Optional<Path> dense = Optional.empty();
      for (Branch b : planner.plan(seed, s.upcycled(), s.scratch())) {
        index++;
        Path folder = s.out().resolve("seed_" + seed).resolve(b.name());
        log.accept(String.format(Locale.ROOT, "[%d/%d] seed %d %s: %s, steps %,d -> %,d (%.1f GFLOP/step)", index,
            total, seed, b.name(), describe(b), b.startStep(), b.finalStep(), b.stepFlops() / 1e9));
        long tb = System.nanoTime();
        BranchRunner.Outcome o = runner.run(b, folder, dense);
        if (o.reused()) {
          reused++;
        } else {
          ran++;
        }
        points.addAll(o.points());
        if (b.kind() == BranchKind.DENSE) {
          dense = Optional.of(o.finalCheckpoint());
        }
        if (b.kind() == BranchKind.UPCYCLED && seed == s.plan().seeds().get(0)) {
          loadRuns.put(b.name(), folder.resolve(BranchRunner.RUN_DIR));
        }
        log.accept(String.format(Locale.ROOT, "      %s in %.0f s: %s", o.reused() ? "finished earlier, read back"
            : "done", (System.nanoTime() - tb) / 1e9, pointsLine(o.points())));
      }
    }
    Files.createDirectories(s.results());
    Path csv = s.results().resolve(CSV);
    ResultsCsv.write(points, csv);
    Path summary = s.results().resolve(SUMMARY);
    List<String> header = new ArrayList<>(s.header());
    header.add(String.format(Locale.ROOT, "wall time of this run: %.0f s (%d branches trained, %d read back from"
        + " earlier runs)", (System.nanoTime() - t0) / 1e9, ran, reused));
    ResultsSummary.write(summary, header, task, s.plan(), points);
    List<Path> plots = new ArrayList<>();
    Path plotDir = s.results().resolve("plots");
    Path acc = plotDir.resolve("accuracy.png");
    ResultsPlots.metricVsCompute(points, task.name() + ": held-out " + task.accuracyName(),
        task.accuracyName(), EvalPoint::accuracy, acc);
    plots.add(acc);
    Path ce = plotDir.resolve("cross_entropy.png");
    ResultsPlots.metricVsCompute(points, task.name() + ": held-out cross-entropy", "cross-entropy",
        EvalPoint::crossEntropy, ce);
    plots.add(ce);
    for (java.util.Map.Entry<String, Path> run : loadRuns.entrySet()) {
      ExpertLoad load = ExpertLoad.read(run.getValue(), 1);
      if (!load.layers().isEmpty()) {
        Path lp = plotDir.resolve("expert_load-" + run.getKey() + ".png");
        ResultsPlots.expertLoad(load, task.name() + ": per-expert share of routed slots and unprocessed tokens, "
            + run.getKey() + " (seed " + s.plan().seeds().get(0) + ")", lp);
        plots.add(lp);
      }
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    log.accept(String.format(Locale.ROOT, "%s experiment: %d branches run, %d read back, %d points, %.0f s;"
        + " results in %s (%s, %s, plots/)", task.name(), ran, reused, points.size(), wall, s.results(), CSV,
        SUMMARY));
    return new Result(points, csv, summary, plots, wall, ran, reused);
  }

  private static String describe(Branch b) {
    return switch (b.kind()) {
      case DENSE -> "dense from scratch";
      case CONTINUATION -> "dense continuation from step " + b.startStep();
      case UPCYCLED -> "upcycled (" + b.variant().orElseThrow().description() + ", optimizer state "
          + (b.variant().get().optimizerState() == dev.upcycle.plan.UpcycleOptions.OptimizerState.COPY ? "copied"
          : "reset") + ")";
      case SCRATCH -> "MoE from scratch (" + b.variant().orElseThrow().description() + ")";
    };
  }

  private static String pointsLine(List<EvalPoint> points) {
    StringBuilder sb = new StringBuilder();
    for (EvalPoint p : points) {
      if (sb.length() > 0) {
        sb.append("; ");
      }
      String at = p.kind() == BranchKind.DENSE ? String.format(Locale.ROOT, "%.2fS", p.budget() + 1)
          : String.format(Locale.ROOT, "+%.0f%%", 100 * p.budget());
      sb.append(String.format(Locale.ROOT, "%s ce %.4f acc %.2f%%", at, p.crossEntropy(), 100 * p.accuracy()));
    }
    return sb.toString();
  }
}
