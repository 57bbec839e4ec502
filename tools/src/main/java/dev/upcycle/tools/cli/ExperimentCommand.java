package dev.upcycle.tools.cli;

import dev.upcycle.model.BuildInfo;
import dev.upcycle.tools.experiment.LanguageTask;
import dev.upcycle.tools.experiment.VisionTask;
import dev.upcycle.train.experiment.Ablations;
import dev.upcycle.train.experiment.Experiment;
import dev.upcycle.train.experiment.ExperimentPlan;
import dev.upcycle.train.experiment.ExperimentTask;
import dev.upcycle.train.experiment.Variant;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code upcycle experiment vision|language}: the paper's comparison at small scale (docs/RESULTS.md). */
@Command(name = "experiment", description = {
    "Reproduce the paper's comparison at small scale: a dense model trained for S steps, then for each extra",
    "budget a dense continuation, the upcycled MoE and an MoE from scratch at equal training FLOPs, at every",
    "seed; writes results.csv, summary.md and plots/*.png (docs/RESULTS.md). Resumable: a finished branch",
    "folder is read back, not re-run."})
public final class ExperimentCommand implements Callable<Integer> {

  /** The experiments there are. */
  public enum Task { VISION, LANGUAGE }

  /** {@code experiment TASK}. */
  static final class Tasks extends Choices.LowerCaseEnum<Task> {
    Tasks() {
      super(Task.class);
    }
  }

  /** {@code --ablation NAME}. */
  static final class AblationNames extends Choices.Parsed<String> implements Iterable<String> {
    AblationNames() {
      super(name -> {
        if (!Ablations.names().contains(name)) {
          throw new IllegalArgumentException("expected one of " + String.join(", ", Ablations.names()) + ", got '"
              + name + "'");
        }
        return name;
      });
    }

    @Override
    public java.util.Iterator<String> iterator() {
      return Ablations.names().iterator();
    }
  }

  /** Default dense budget S of each experiment (the dense curve has flattened there: docs/RESULTS.md). */
  public static final long VISION_DENSE_STEPS = 3000;
  public static final long LANGUAGE_DENSE_STEPS = 1500;
  /** {@code --quick}: steps, budgets and evaluation batches of the smoke run. */
  public static final long QUICK_DENSE_STEPS = 20;
  public static final String QUICK_BUDGETS = "50,100";
  public static final int QUICK_EVAL_BATCHES = 2;

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Parameters(index = "0", paramLabel = "TASK", converter = Tasks.class, completionCandidates = Tasks.class,
      description = "vision (ViT on Fashion-MNIST) or language (T5 span corruption on the King James Bible).")
  Task task;

  @Option(names = "--quick", description = "A smoke run: " + QUICK_DENSE_STEPS + " dense steps, budgets "
      + QUICK_BUDGETS + " %%, one seed, " + QUICK_EVAL_BATCHES + " evaluation batches (a small corpus for language).")
  boolean quick;

  @Option(names = "--seeds", paramLabel = "N", description = "Seeds 0..N-1 for every branch. Default: 3 (1 with --quick).")
  Integer seeds;

  @Option(names = "--budgets", paramLabel = "P,P,...",
      description = "Extra budgets in percent of the dense budget S. Default: 10,25,50,100 (" + QUICK_BUDGETS
          + " with --quick).")
  String budgets;

  @Option(names = "--dense-steps", paramLabel = "S", description = "The dense budget S in steps. Default: "
      + VISION_DENSE_STEPS + " (vision), " + LANGUAGE_DENSE_STEPS + " (language).")
  Long denseSteps;

  @Option(names = "--experts", defaultValue = "8", paramLabel = "E",
      description = "Experts per MoE layer. Default: ${DEFAULT-VALUE}.")
  int experts;

  @Option(names = "--ablation", paramLabel = "NAME", converter = AblationNames.class,
      completionCandidates = AblationNames.class,
      description = "Run one ablation instead of the main comparison: ${COMPLETION-CANDIDATES}"
          + " (upcycled variants against the dense continuation; results in OUT/ablation-NAME).")
  String ablation;

  @Option(names = "--no-scratch", description = "Leave out the MoE-from-scratch branch.")
  boolean noScratch;

  @Option(names = "--eval-batches", paramLabel = "N",
      description = "Held-out batches per evaluation. Default: the whole held-out set.")
  Integer evalBatches;

  @Option(names = "--xla", negatable = true, defaultValue = "false", fallbackValue = "true",
      description = "Compile the train steps with XLA. Default: off (faster for these small models on CPU,"
          + " and no compile time per branch: `bench train`).")
  boolean xla;

  @Option(names = "--fashion-mnist", paramLabel = "DIR", description = "vision: a folder with the four Fashion-MNIST"
      + " IDX files (*-ubyte.gz) instead of Debian's dataset-fashion-mnist.")
  Path fashionMnist;

  @Option(names = "--corpus", paramLabel = "TEXT", description = "language: a text file, one document per line,"
      + " instead of the King James Bible from Debian's bible-kjv.")
  Path corpus;

  @Option(names = "--spm", paramLabel = "MODEL", description = "language: a SentencePiece model instead of one"
      + " trained by Debian's spm_train on the training text.")
  Path spm;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Results folder. Default: runs/experiment/TASK (runs/experiment/TASK-quick with --quick).")
  Path out;

  @Override
  public Integer call() throws Exception {
    PrintWriter log = spec.commandLine().getOut();
    Path root = (out != null ? out : Path.of("runs/experiment", task.name().toLowerCase(Locale.ROOT)
        + (quick ? "-quick" : ""))).toAbsolutePath().normalize();
    if (corpus != null) {
      InputFiles.check("--corpus", corpus);
    }
    if (spm != null) {
      InputFiles.check("--spm", spm);
    }
    ExperimentPlan plan = plan();
    String header = headerLine(root, plan);
    log.println(header);
    log.flush();
    ExperimentTask t;
    int layers;
    int fullEval;
    if (task == Task.VISION) {
      VisionTask v = VisionTask.prepare(root.resolve("data"), experts, xla, Optional.ofNullable(fashionMnist), log);
      t = v;
      layers = VisionTask.LAYERS;
      fullEval = v.fullEvalBatches();
    } else {
      LanguageTask l = LanguageTask.prepare(root.resolve("data"), quick, experts, xla, Optional.ofNullable(corpus),
          Optional.ofNullable(spm), log);
      t = l;
      layers = LanguageTask.LAYERS;
      fullEval = l.fullEvalBatches();
    }
    int batches = evalBatches != null ? evalBatches : quick ? Math.min(QUICK_EVAL_BATCHES, fullEval) : fullEval;
    plan = new ExperimentPlan(plan.denseSteps(), plan.budgets(), plan.seeds(), plan.curve(), batches);
    List<Variant> upcycled;
    List<Variant> scratch;
    Path results;
    if (ablation != null) {
      upcycled = Ablations.variants(ablation, t.recipe().get(0), layers);
      scratch = List.of();
      results = root.resolve("ablation-" + ablation);
    } else {
      upcycled = t.recipe();
      scratch = noScratch ? List.of() : List.of(t.recipe().get(0));
      results = root;
    }
    List<String> lines = new ArrayList<>();
    lines.add("# " + t.name() + " experiment" + (ablation != null ? ": ablation " + ablation : ""));
    lines.add("");
    lines.add("command: `bin/upcycle " + String.join(" ", spec.commandLine().getParseResult().originalArgs()) + "`");
    lines.add("");
    lines.add(machineLine());
    Experiment.Result r = Experiment.run(t, new Experiment.Settings(root, results, plan, upcycled, scratch, lines),
        line -> {
          log.println(line);
          log.flush();
        });
    log.printf(Locale.ROOT, "wrote %s, %s and %d plots in %s%n", r.csv().getFileName(), r.summary().getFileName(),
        r.plots().size(), results);
    log.flush();
    return 0;
  }

  private ExperimentPlan plan() {
    long s = denseSteps != null ? denseSteps : quick ? QUICK_DENSE_STEPS
        : task == Task.VISION ? VISION_DENSE_STEPS : LANGUAGE_DENSE_STEPS;
    List<Double> b = ExperimentPlan.parsePercentages(budgets != null ? budgets : quick ? QUICK_BUDGETS : "10,25,50,100");
    int n = seeds != null ? seeds : quick ? 1 : 3;
    List<Double> curve = quick ? List.of(0.5, 1.0) : List.of(0.125, 0.25, 0.5, 0.75, 1.0);
    return new ExperimentPlan(s, b, ExperimentPlan.firstSeeds(n), curve, 1);
  }

  private String headerLine(Path root, ExperimentPlan plan) {
    return String.format(Locale.ROOT, "experiment %s%s: S = %,d dense steps, budgets %s, seeds %s, out %s",
        task.name().toLowerCase(Locale.ROOT), ablation != null ? " (ablation " + ablation + ")" : "", plan.denseSteps(),
        plan.budgets(), plan.seeds(), root);
  }

  private static String machineLine() {
    String load = "unknown";
    try {
      load = Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      // not Linux: leave it unknown
    }
    return String.format(Locale.ROOT, "machine: %d cores, Java %s, TensorFlow %s (TF Java %s); load average at start"
        + " (1/5/15 min, runnable/total, last pid): %s", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), BuildInfo.TENSORFLOW_RUNTIME_VERSION, BuildInfo.TENSORFLOW_JAVA_VERSION,
        load);
  }
}
