package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.Folders;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.plan.ConvertJob;
import dev.upcycle.plan.GranularScaling;
import dev.upcycle.plan.ProgressListener;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.train.config.CheckpointConfig;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.input.TfRecordBatchSource;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import dev.upcycle.train.step.BatchSource;
import dev.upcycle.train.step.TrainResult;
import dev.upcycle.train.step.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs one {@link Branch} in its own folder, resumably: a folder holding {@code branch.json} is a
 * finished branch and is not re-run (its points are read back) as long as the branch's definition
 * is the same; a folder without it is an interrupted run and starts over. The folder holds the run
 * ({@code run/}: checkpoints, {@code metrics.jsonl}, TensorBoard events), for upcycled branches the
 * converted checkpoint ({@code init/}), and {@code branch.json} (the definition and its points),
 * written last and atomically.
 */
public final class BranchRunner {

  /** The file that marks a finished branch. */
  public static final String DONE_FILE = "branch.json";
  /** The training run's folder inside a branch folder. */
  public static final String RUN_DIR = "run";
  /** The converted checkpoint's folder inside an upcycled branch's folder. */
  public static final String INIT_DIR = "init";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * What a branch produced.
   *
   * @param points its evaluations, in step order
   * @param finalCheckpoint the checkpoint at its final step
   * @param folder the branch folder
   * @param reused true when a finished folder was read back rather than trained
   */
  public record Outcome(List<EvalPoint> points, Path finalCheckpoint, Path folder, boolean reused) {}

  private final ExperimentTask task;
  private final int evalBatches;
  private final Consumer<String> log;

  /**
   * @param task the data the branches train and evaluate on
   * @param evalBatches held-out batches per evaluation
   * @param log progress lines
   */
  public BranchRunner(ExperimentTask task, int evalBatches, Consumer<String> log) {
    this.task = checkNotNull(task, "task");
    checkArgument(evalBatches >= 1, "eval batches must be >= 1, got %s", evalBatches);
    this.evalBatches = evalBatches;
    this.log = checkNotNull(log, "log");
  }

  /**
   * Runs {@code branch} in {@code folder} (or reads it back when finished).
   *
   * @param denseCheckpoint the dense checkpoint at step S, for branches that start from it
   * @throws IllegalStateException when {@code folder} holds a finished branch of another definition
   */
  public Outcome run(Branch branch, Path folder, Optional<Path> denseCheckpoint) throws IOException {
    checkNotNull(branch, "branch");
    checkNotNull(folder, "folder");
    checkNotNull(denseCheckpoint, "denseCheckpoint");
    boolean fromDense = branch.kind() == BranchKind.CONTINUATION || branch.kind() == BranchKind.UPCYCLED;
    checkArgument(!fromDense || denseCheckpoint.isPresent(), "branch %s starts from the dense checkpoint, none given",
        branch.name());
    // as read back from JSON (number node types as a parser makes them), so a stored one compares equal
    JsonNode definition = JSON.readTree(JSON.writeValueAsString(definition(branch)));
    Path done = folder.resolve(DONE_FILE);
    if (Files.isRegularFile(done)) {
      JsonNode stored = JSON.readTree(done.toFile());
      if (!definition.equals(stored.get("definition"))) {
        throw new IllegalStateException(folder + " holds a finished branch " + branch.name()
            + " with other settings than this run's (steps, budgets, model or options differ): use another --out,"
            + " or delete that folder to run it again");
      }
      return new Outcome(readPoints(stored), folder.resolve(stored.get("final_checkpoint").asText()), folder, true);
    }
    if (Files.exists(folder)) {
      log.accept("  " + branch.name() + ": removing an unfinished run in " + folder);
      Folders.deleteTree(folder);
    }
    Files.createDirectories(folder);

    Map<String, String> job = new LinkedHashMap<>(branch.settings());
    job.put("output_dir", folder.resolve(RUN_DIR).toString());
    job.put("checkpoint_every", String.valueOf(branch.finalStep()));
    job.put("keep_checkpoints", "1");
    Optional<Path> init = Optional.empty();
    TrainConfig config;
    switch (branch.kind()) {
      case DENSE, SCRATCH -> config = TrainConfig.defaults().withOverrides(job);
      case CONTINUATION -> {
        config = TrainConfig.defaults().withOverrides(job);
        init = denseCheckpoint;
      }
      case UPCYCLED -> {
        Variant v = branch.variant().orElseThrow();
        Path converted = folder.resolve(INIT_DIR);
        ConvertJob.run(denseCheckpoint.get(), converted, v.upcycleOptions(branch.seed()), Optional.empty(), false,
            false, ProgressListener.NONE);
        // the model comes from the converted checkpoint's provenance; the job (and the routers) from the branch
        Map<String, String> jobOnly = new LinkedHashMap<>(job);
        jobOnly.keySet().removeIf(k -> k.startsWith("model.") || k.equals("moe.num_experts")
            || k.equals("moe.encoder_layout") || k.equals("moe.decoder_layout"));
        config = CheckpointConfig.resolve(converted, Optional.empty(), jobOnly, false).config();
        TrainConfig planned = TrainConfig.defaults().withOverrides(job);
        if (!config.modelSpec().equals(planned.modelSpec())) {
          throw new IllegalStateException("branch " + branch.name() + ": the converted checkpoint " + converted
              + " describes " + config.modelSpec() + ", but the branch was planned (and its FLOPs counted) for "
              + planned.modelSpec());
        }
        init = Optional.of(converted);
      }
      default -> throw new AssertionError(branch.kind());
    }

    Collector collector = new Collector(branch, Trainer.tokensPerStep(config));
    ArchitectureConfig arch = config.modelSpec().arch();
    TrainResult result;
    try (BatchSource train = new TfRecordBatchSource(TfRecordBatchSource.Options.forModel(task.trainData(), arch,
            config.batchShape(), config.seed()));
        BatchSource eval = new TfRecordBatchSource(TfRecordBatchSource.Options.forModel(task.evalData(), arch,
            config.batchShape(), 0).withShuffleBuffer(1))) {
      result = Trainer.runWithEvalPlan(config, train, init, false, collector, Optional.of(
          new Trainer.EvalPlan(eval, evalBatches, step -> branch.evalSteps().containsKey(step))));
    }
    checkArgument(result.finalStep() == branch.finalStep(), "branch %s stopped at step %s, planned %s", branch.name(),
        result.finalStep(), branch.finalStep());
    List<EvalPoint> points = collector.points();
    checkArgument(points.size() == branch.evalSteps().size(), "branch %s evaluated at %s steps, planned %s",
        branch.name(), points.size(), branch.evalSteps().size());
    Path last = result.checkpoints().get(result.checkpoints().size() - 1);
    ObjectNode record = JSON.createObjectNode();
    record.set("definition", definition);
    record.put("final_checkpoint", folder.relativize(last).toString());
    ArrayNode array = record.putArray("points");
    for (EvalPoint p : points) {
      array.add(JSON.valueToTree(p));
    }
    Folders.writeAtomically(done, JSON.writeValueAsBytes(record));
    return new Outcome(points, last, folder, false);
  }

  /** Everything that makes a branch what it is; a finished folder is reused only for an equal one. */
  static ObjectNode definition(Branch b) {
    ObjectNode d = JSON.createObjectNode();
    d.put("name", b.name());
    d.put("kind", b.kind().name());
    d.put("seed", b.seed());
    d.put("start_step", b.startStep());
    d.put("final_step", b.finalStep());
    ObjectNode at = d.putObject("eval_steps");
    b.evalSteps().forEach((step, budget) -> at.put(String.valueOf(step), budget));
    ObjectNode settings = d.putObject("settings");
    new java.util.TreeMap<>(b.settings()).forEach(settings::put);
    if (b.kind() == BranchKind.UPCYCLED) {
      d.set("upcycle", upcycleDefinition(b.variant().orElseThrow().upcycleOptions(b.seed())));
    }
    return d;
  }

  /**
   * The upcycling options in a form that stays the same when options are added to
   * {@link UpcycleOptions} with defaults that keep today's behaviour: granular scaling and virtual
   * router groups appear only when they are not the default.
   */
  static ObjectNode upcycleDefinition(UpcycleOptions o) {
    ObjectNode u = JSON.createObjectNode();
    u.put("experts", o.numExperts());
    u.put("encoder_layout", o.encoderLayout().toString());
    u.put("decoder_layout", o.decoderLayout().toString());
    u.put("router_init", UpcycleOptions.describe(o.routerInit()));
    u.put("noise", o.noiseStddev());
    u.put("drop_upcycling", o.dropUpcyclingRatio());
    u.put("granularity", o.granularity());
    if (!o.granularScaling().equals(GranularScaling.WO_TIMES_G)) {
      u.put("granular_scaling", o.granularScaling().toString());
    }
    if (o.routerVirtualGroups()) {
      u.put("router_virtual_groups", true);
    }
    u.put("optimizer_state", o.optimizerState().name());
    u.put("seed", o.seed());
    u.put("format", o.outputFormat().name());
    return u;
  }

  private static List<EvalPoint> readPoints(JsonNode stored) throws IOException {
    List<EvalPoint> out = new ArrayList<>();
    for (JsonNode p : stored.get("points")) {
      out.add(JSON.treeToValue(p, EvalPoint.class));
    }
    return out;
  }

  /** Collects the evaluations with the training wall time and FLOPs so far. */
  private static final class Collector implements TrainListener {
    private final Branch branch;
    private final long tokensPerStep;
    private final List<EvalPoint> points = new ArrayList<>();
    private double wallSeconds;

    Collector(Branch branch, long tokensPerStep) {
      this.branch = branch;
      this.tokensPerStep = tokensPerStep;
    }

    @Override
    public void onStep(StepMetrics m) {
      wallSeconds += tokensPerStep / Math.max(m.tokensPerS(), 1e-9);
    }

    @Override
    public void onEval(long step, double loss, double crossEntropy, double accuracy) {
      Double budget = branch.evalSteps().get(step);
      checkArgument(budget != null, "branch %s evaluated at step %s, which is not planned", branch.name(), step);
      points.add(new EvalPoint(branch.name(), branch.kind(), branch.seed(), budget, step, step - branch.startStep(),
          branch.flopsAt(step), branch.extraComputeAt(step), wallSeconds, loss, crossEntropy, accuracy));
    }

    List<EvalPoint> points() {
      return List.copyOf(points);
    }
  }
}
