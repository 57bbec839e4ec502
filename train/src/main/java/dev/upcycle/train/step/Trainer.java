package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.config.ConfigJson;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.provenance.Sources;
import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.ckpt.RestoreReport;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.metrics.MetricsLog;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.LongPredicate;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * The training job as a library call. Builds the {@link TrainStep} for the config, then initialises
 * it: from the newest checkpoint of the run when resuming (exact resume: weights, slots, step), else
 * from {@code initCheckpoint} (e.g. the upcycle converter's output: all model weights required,
 * optimizer slots optional, a stored {@code state/step} carried so the schedule continues), else
 * fresh from the seed. Then runs steps until {@code train_steps}, taking batch {@code s} and dropout
 * seed f(seed, s) for step counter {@code s}, writing metrics each step and a checkpoint every
 * {@code checkpoint_every} steps and at the end. The run folder holds {@code checkpoints/},
 * {@code metrics.jsonl} and {@code events/}.
 */
public final class Trainer {

  private Trainer() {}

  /** {@link #run(TrainConfig, BatchSource, Optional, boolean, TrainListener, Optional)} without evaluation. */
  public static TrainResult run(TrainConfig config, BatchSource source, Optional<Path> initCheckpoint, boolean resume,
      TrainListener listener) throws IOException {
    return run(config, source, initCheckpoint, resume, listener, Optional.empty());
  }

  /**
   * Trains per {@code config}.
   *
   * @param source training batches by step
   * @param initCheckpoint a checkpoint to start from when not resuming (folder or bundle prefix)
   * @param resume continue from the newest checkpoint in {@code <output_dir>/checkpoints} if any
   * @param listener progress callbacks (metrics files are written regardless)
   * @param evalSource held-out batches, evaluated every {@code eval_every} steps when given
   * @throws NonFiniteException when a step yields a NaN or infinite loss or gradient
   */
  public static TrainResult run(TrainConfig config, BatchSource source, Optional<Path> initCheckpoint, boolean resume,
      TrainListener listener, Optional<BatchSource> evalSource) throws IOException {
    return run(config, source, initCheckpoint, resume, listener, evalSource, ONE_PROCESS);
  }

  /** {@link #run(TrainConfig, BatchSource, Optional, boolean, TrainListener, Optional)} with a step factory. */
  public static TrainResult run(TrainConfig config, BatchSource source, Optional<Path> initCheckpoint, boolean resume,
      TrainListener listener, Optional<BatchSource> evalSource, StepFactory steps) throws IOException {
    checkNotNull(config, "config");
    checkNotNull(evalSource, "evalSource");
    Optional<EvalPlan> plan = evalSource.filter(e -> config.evalEvery() > 0)
        .map(e -> new EvalPlan(e, config.evalBatches(), step -> step % config.evalEvery() == 0));
    return runWithEvalPlan(config, source, initCheckpoint, resume, listener, plan, steps);
  }

  /**
   * When to evaluate during a run: after every step counter value {@code at} accepts, on
   * {@code batches} batches of {@code source} (batch i of every evaluation is {@code nextBatch(i)}).
   */
  public record EvalPlan(BatchSource source, int batches, LongPredicate at) {
    public EvalPlan {
      checkNotNull(source, "source");
      checkArgument(batches >= 1, "eval batches must be >= 1, got %s", batches);
      checkNotNull(at, "at");
    }
  }

  /**
   * Builds the train step of a run: {@link #ONE_PROCESS} by default; in-graph replicas over local
   * devices or a cluster in {@code dev.upcycle.train.distributed.DistributedTraining}.
   */
  public interface StepFactory {
    <T extends TFloating> TrainStep<T> build(TrainConfig config, Class<T> dtype);
  }

  /** One graph in this process: {@link TrainStep#build}. */
  public static final StepFactory ONE_PROCESS = new StepFactory() {
    @Override
    public <T extends TFloating> TrainStep<T> build(TrainConfig config, Class<T> dtype) {
      int shards = config.moe().expertShards();
      checkArgument(shards == 1, "moe.expert_shards %s places the experts on %s devices, but this run has one device:"
          + " train with --local-replicas %s (CPU devices of this process) or --cluster with %s worker tasks, or set"
          + " moe.expert_shards 1", shards, shards, shards, shards);
      return TrainStep.build(config.modelSpec(), config.batchShape(), dtype, stepOptions(config));
    }
  };

  /** {@link #run(TrainConfig, BatchSource, Optional, boolean, TrainListener, Optional)} with an explicit plan. */
  public static TrainResult runWithEvalPlan(TrainConfig config, BatchSource source, Optional<Path> initCheckpoint,
      boolean resume, TrainListener listener, Optional<EvalPlan> evalPlan) throws IOException {
    return runWithEvalPlan(config, source, initCheckpoint, resume, listener, evalPlan, ONE_PROCESS);
  }

  /** {@link #runWithEvalPlan(TrainConfig, BatchSource, Optional, boolean, TrainListener, Optional)} with a step factory. */
  public static TrainResult runWithEvalPlan(TrainConfig config, BatchSource source, Optional<Path> initCheckpoint,
      boolean resume, TrainListener listener, Optional<EvalPlan> evalPlan, StepFactory steps) throws IOException {
    checkNotNull(steps, "steps");
    checkNotNull(config, "config");
    checkNotNull(source, "source");
    checkNotNull(initCheckpoint, "initCheckpoint");
    checkNotNull(listener, "listener");
    checkNotNull(evalPlan, "evalPlan");
    Class<? extends TFloating> dtype = config.dtype().equals("float64") ? TFloat64.class : TFloat32.class;
    return runTyped(config, dtype, source, initCheckpoint, resume, listener, evalPlan, steps);
  }

  /**
   * Tokens one step of {@code config} trains on: batch × sequence length for a ViT (patches and
   * any class token), else the batch shape's tokens. {@link StepMetrics#tokensPerS} is this over
   * the step's wall time.
   */
  public static long tokensPerStep(TrainConfig config) {
    return config.modelSpec().arch() instanceof dev.upcycle.model.VitConfig v
        ? (long) config.batchSize() * v.sequenceLength()
        : config.batchShape().tokens();
  }

  /** The train-step options a config asks for. */
  public static TrainStep.Options stepOptions(TrainConfig c) {
    return new TrainStep.Options(c.optimizer().optimizer(), c.schedule().schedule(c.trainSteps()), c.clipNorm(),
        c.xlaMode(), c.zLoss(), c.labelSmoothing(), c.seed(), c.precisionPolicy(),
        c.computeDevice());
  }

  private static <T extends TFloating> TrainResult runTyped(TrainConfig config, Class<T> dtype, BatchSource source,
      Optional<Path> initCheckpoint, boolean resume, TrainListener listener, Optional<EvalPlan> evalPlan,
      StepFactory steps) throws IOException {
    Path runDir = Path.of(config.outputDir()).toAbsolutePath().normalize();
    CheckpointManager checkpoints = new CheckpointManager(runDir.resolve("checkpoints"), config.keepCheckpoints());
    String configJson = config.toJson();
    try (TrainStep<T> step = steps.build(config, dtype)) {
      SessionState state = new SessionState(step);
      step.initialize();
      Optional<Path> latest = resume ? checkpoints.latest() : Optional.empty();
      if (latest.isPresent()) {
        RestoreReport r = CheckpointManager.restore(latest.get(), state);
        checkArgument(r.fresh().isEmpty(), "checkpoint %s lacks optimizer state %s of this run: cannot resume exactly",
            latest.get(), r.fresh());
      } else if (initCheckpoint.isPresent()) {
        CheckpointManager.restore(initCheckpoint.get(), state);
      }
      Provenance run = runRecord(config, latest, initCheckpoint);
      long s = step.step();
      long start = s;
      checkArgument(s < config.trainSteps() || latest.isPresent(),
          "the initial checkpoint is at step %s, which is not below train_steps %s (train_steps counts from step 0,"
              + " as in T5X)", s, config.trainSteps());
      long tokensPerStep = tokensPerStep(config);
      StepMetrics last = null;
      try (MetricsLog metrics = new MetricsLog(runDir, s);
          Evaluator<T> evaluator = evalPlan.isPresent() ? Evaluator.attach(step) : null) {
        TrainListener all = metrics.andThen(listener);
        all.onStart(s, config.trainSteps());
        long lastSaved = latest.isPresent() ? s : -1;
        while (s < config.trainSteps()) {
          long t0 = System.nanoTime();
          StepMetrics m;
          try (Batch batch = source.nextBatch(s)) {
            m = step.run(batch, Seeds.dropout(config.seed(), s));
          }
          double secs = (System.nanoTime() - t0) / 1e9;
          last = m.withTokensPerS(tokensPerStep / Math.max(secs, 1e-9));
          s = last.step();
          all.onStep(last);
          if (s % config.checkpointEvery() == 0 || s == config.trainSteps()) {
            long at = s;
            Path folder = checkpoints.save(s, state, configJson, run, (st, done, total) ->
                all.onCheckpointProgress(at, done, total));
            lastSaved = s;
            all.onCheckpoint(s, folder);
          }
          if (evaluator != null && evalPlan.get().at().test(s)) {
            Evaluator.Evaluation e = evaluator.evaluate(evalPlan.get().source(), evalPlan.get().batches());
            all.onEval(s, e.loss(), e.crossEntropy(), e.accuracy());
          }
        }
        if (lastSaved != s) {
          Path folder = checkpoints.save(s, state, configJson, run, progress(all, s));
          all.onCheckpoint(s, folder);
        }
        all.onFinish(s);
      }
      return new TrainResult(start, s, Optional.ofNullable(last), checkpoints.list(), runDir);
    }
  }

  /**
   * The provenance every checkpoint of this run carries: the train config and the model spec; the
   * source and parent are the init checkpoint's (when resuming, those the run's checkpoints already
   * record, so the chain stays convert → train however often a run resumes).
   */
  static Provenance runRecord(TrainConfig config, Optional<Path> resumedFrom, Optional<Path> init) throws IOException {
    Provenance.Source source = null;
    Provenance parent = null;
    if (resumedFrom.isPresent()) {
      Optional<Provenance> own = Provenance.find(resumedFrom.get());
      source = own.map(Provenance::source).orElse(null);
      parent = own.map(Provenance::parent).orElse(null);
    } else if (init.isPresent()) {
      source = Sources.checkpoint(init.get());
      parent = Provenance.find(init.get()).orElse(null);
    }
    ObjectNode options = Provenance.newOptions();
    options.set("config", ConfigJson.MAPPER.readTree(config.toJson()));
    options.put("run_dir", Path.of(config.outputDir()).toAbsolutePath().normalize().toString());
    return Provenance.of(Provenance.Kind.TRAIN, source, options, config.modelSpec(), parent);
  }

  private static dev.upcycle.train.ckpt.WriteProgress progress(TrainListener l, long step) {
    return (st, done, total) -> l.onCheckpointProgress(step, done, total);
  }
}
