package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.graph.ComputeDevice;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.model.graph.XlaModule;
import dev.upcycle.model.moe.MoeLayerStats;
import dev.upcycle.train.metrics.MoeLayerMetrics;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.optim.GradientClipping;
import dev.upcycle.train.optim.Optimizer;
import dev.upcycle.train.optim.Schedule;
import dev.upcycle.train.optim.StateStore;
import dev.upcycle.train.optim.StateVariable;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * One static-shape training step in one graph and session: forward, backward (the model's
 * gradients of the total loss), global-norm clipping, the optimizer update of every parameter and
 * its slots, and the step increment, all in plain ops on resource variables so XLA can compile the
 * whole update: as one module ({@code xla = module}, {@link XlaModule}); under auto-clustering the
 * update (everything in the {@code train/} scope) is kept out of the clusters ({@link XlaMode#updateOps}). Each
 * {@link #run} fetches loss parts, learning rate, gradient norm, MoE statistics and a per-variable
 * "gradient is finite" vector, which is inspected only when the loss or the norm is not finite.
 */
public final class TrainStep<T extends TFloating> implements AutoCloseable {

  /**
   * How the step is built.
   *
   * @param optimizer Adafactor or AdamW
   * @param schedule the learning-rate schedule over {@code state/step}
   * @param clipNorm global gradient-norm clipping threshold; 0 = off
   * @param xla {@link XlaMode#MODULE}: the whole step as one XLA module ({@link XlaModule});
   *     {@link XlaMode#AUTO}: auto-clustering (needs {@code TF_XLA_FLAGS=--tf_xla_cpu_global_jit} on CPU; the
   *     project's flags cluster fusible ops only, {@code SessionConfigs.CPU_XLA_FLAGS}; the update is not
   *     clustered);
   *     {@link XlaMode#OFF}
   * @param zLossFactor logit z-loss factor (1e-4)
   * @param labelSmoothing label smoothing (0)
   * @param initSeed seed of fresh weights
   * @param precision float32, or bfloat16 matmuls over float32 weights ({@link Precision})
   * @param device where the step computes ({@link ComputeDevice}; auto is resolved when the step is built)
   */
  public record Options(Optimizer optimizer, Schedule schedule, double clipNorm, XlaMode xla, double zLossFactor,
      double labelSmoothing, long initSeed, Precision precision, ComputeDevice device) {
    public Options {
      checkNotNull(optimizer, "optimizer");
      checkNotNull(schedule, "schedule");
      checkNotNull(xla, "xla");
      checkNotNull(precision, "precision");
      checkNotNull(device, "device");
      checkArgument(clipNorm >= 0, "clipNorm must be >= 0 (0 = off), got %s", clipNorm);
      checkArgument(zLossFactor >= 0, "zLossFactor must be >= 0, got %s", zLossFactor);
      checkArgument(labelSmoothing >= 0 && labelSmoothing < 1, "labelSmoothing must be in [0, 1), got %s",
          labelSmoothing);
    }

    /** Float32 precision, on the device {@link ComputeDevice#AUTO} picks. */
    public Options(Optimizer optimizer, Schedule schedule, double clipNorm, XlaMode xla, double zLossFactor,
        double labelSmoothing, long initSeed) {
      this(optimizer, schedule, clipNorm, xla, zLossFactor, labelSmoothing, initSeed, Precision.FLOAT32,
          ComputeDevice.AUTO);
    }

    /** These options with another precision. */
    public Options withPrecision(Precision value) {
      return new Options(optimizer, schedule, clipNorm, xla, zLossFactor, labelSmoothing, initSeed, value, device);
    }

    /** These options with another XLA mode. */
    public Options withXla(XlaMode value) {
      return new Options(optimizer, schedule, clipNorm, value, zLossFactor, labelSmoothing, initSeed, precision,
          device);
    }

    /** These options with another device. */
    public Options withDevice(ComputeDevice value) {
      return new Options(optimizer, schedule, clipNorm, xla, zLossFactor, labelSmoothing, initSeed, precision, value);
    }
  }

  private final ModelGraph<T> model;
  private final Options options;
  private final StateStore state;
  private final StateVariable<TInt32> step;
  private final Operand<T> learningRate;
  private final Operand<T> gradNorm;
  private final Operand<TBool> gradFinite;
  private final Op train;
  private final List<Operand<T>> grads;
  /** What {@link #run} fetches: the step's values, or the module's outputs standing for them. */
  private final List<Operand<?>> fetches;

  private TrainStep(ModelGraph<T> model, Options options) {
    this.options = options;
    this.model = model;
    Class<T> dtype = model.store.dtype();
    try {
      Ops tf = options.xla().updateOps(model.tf.withSubScope("train"));
      this.state = new StateStore(model.tf);
      this.step = state.step();
      List<ModelVariable<T>> params = model.store.variables();
      List<Operand<T>> grads = new ArrayList<>();
      List<Operand<TBool>> finite = new ArrayList<>();
      for (int i = 0; i < params.size(); i++) {
        Operand<T> g = gradient(tf, model.gradients[i], params.get(i).value());
        grads.add(g);
        finite.add(tf.reduceAll(tf.math.isFinite(g), allAxes(tf, params.get(i).shape().length)));
      }
      this.grads = grads;
      this.gradFinite = tf.withName("grad_finite").stack(finite);
      this.gradNorm = GradientClipping.globalNorm(tf, grads);
      List<Operand<T>> clipped = GradientClipping.clipByGlobalNorm(tf, grads, gradNorm, options.clipNorm(), dtype);
      Operand<T> counter = tf.dtypes.cast(step.value(), dtype);
      this.learningRate = options.schedule().build(tf, counter, dtype);
      Operand<T> count = tf.math.add(counter, Optimizer.constant(tf, 1, dtype));
      List<Op> after = new ArrayList<>(grads);
      after.add(model.totalLoss);
      after.add(gradNorm);
      // One gate op waits for the gradients, loss and norm; every optimizer op waits for the gate.
      // (Giving each optimizer op the ~N gradients as control inputs directly made N² edges:
      // 1.7 M for vit-tiny, 12 s of session setup and per-step executor work.)
      Op gate = tf.withControlDependencies(after).withName("gradients_ready").noOp();
      Ops ctl = tf.withControlDependencies(List.of(gate));
      List<Op> updates = options.optimizer().apply(ctl, state, params, clipped, learningRate, count, dtype);
      Op increment = ctl.withControlDependencies(updates).withName("increment_step")
          .assignVariableOp(step.handle(), tf.math.add(step.value(), tf.constant(1)));
      List<Op> all = new ArrayList<>(updates);
      all.add(increment);
      Op trainOp = tf.withControlDependencies(all).withName("train_op").noOp();
      List<Operand<?>> fetches = new ArrayList<>();
      fetches.add(model.totalLoss);
      fetches.add(model.loss.crossEntropy());
      fetches.add(model.loss.zLoss());
      fetches.add(model.outputs.auxLoss());
      fetches.add(model.outputs.routerZLoss());
      fetches.add(learningRate);
      fetches.add(gradNorm);
      fetches.add(step.value());
      fetches.add(gradFinite);
      for (MoeLayerStats<T> s : model.outputs.moeLayers()) {
        fetches.add(s.expertFraction());
        fetches.add(s.droppedFraction());
        fetches.add(s.routerZLoss());
        fetches.add(s.auxLoss());
      }
      if (options.xla() == XlaMode.MODULE) {
        // feeds (the batch and the step seed) stay outside the module; everything else is inside
        List<Operand<?>> feeds = new ArrayList<>(model.inputs.placeholders());
        feeds.add(model.stepSeed);
        XlaModule module = XlaModule.wrap(model.graph, tf, "train_step", feeds, fetches, List.of(trainOp));
        this.fetches = List.copyOf(module.fetchAll(fetches));
        this.train = module.target();
      } else {
        this.fetches = List.copyOf(fetches);
        this.train = trainOp;
      }
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** Builds the step graph (fresh, uninitialised variables: call {@link #initialize} or load them). */
  public static <T extends TFloating> TrainStep<T> build(ModelSpec spec, BatchShape shape, Class<T> dtype,
      Options options) {
    checkNotNull(spec, "spec");
    checkNotNull(shape, "shape");
    checkNotNull(dtype, "dtype");
    checkNotNull(options, "options");
    return new TrainStep<>(ModelGraph.build(spec, shape, dtype, true, options.initSeed(), true,
        SessionConfigs.of(options.xla().autoClustering(), options.device().resolve()), options.zLossFactor(),
        options.labelSmoothing(), options.precision()), options);
  }

  /**
   * The step over a model built elsewhere with gradients and a training graph (e.g. in-graph
   * replicas, {@code dev.upcycle.train.distributed}); the step owns and closes it.
   */
  public static <T extends TFloating> TrainStep<T> over(ModelGraph<T> model, Options options) {
    checkNotNull(model, "model");
    checkNotNull(options, "options");
    if (model.gradients == null) {
      model.close();
      throw new IllegalArgumentException("the model was built without gradients: a train step needs them");
    }
    return new TrainStep<>(model, options);
  }

  @SuppressWarnings("unchecked")
  private static <T extends TFloating> Operand<T> gradient(Ops tf, Output<?> g, Operand<T> value) {
    // A variable the loss does not depend on gets no gradient: use zeros.
    return g == null ? tf.zerosLike(value) : (Operand<T>) g;
  }

  private static Operand<TInt32> allAxes(Ops tf, int rank) {
    int[] axes = new int[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return tf.constant(axes);
  }

  /** Fresh weights from the seed and zero optimizer state (step 0). */
  public TrainStep<T> initialize() {
    model.store.initialize(model.session);
    state.initialize(model.session);
    return this;
  }

  public ModelGraph<T> model() {
    return model;
  }

  public StateStore state() {
    return state;
  }

  public Options options() {
    return options;
  }

  public Session session() {
    return model.session;
  }

  /** The current value of {@code state/step}: updates applied so far. */
  public long step() {
    try (Result r = model.session.runner().fetch(step.value()).run()) {
      return ((TInt32) r.get(0)).getInt();
    }
  }

  /**
   * Runs one update on {@code batch} with dropout/jitter seed {@code stepSeed}.
   *
   * @throws NonFiniteException when the loss or a gradient is NaN or infinite (the update has then
   *     been applied; the caller must not checkpoint this state)
   */
  public StepMetrics run(Batch batch, long stepSeed) {
    return run(batch, stepSeed, false).metrics;
  }

  /**
   * Forward and backward only (no update): the total loss followed by the gradient of every model
   * variable, in {@code store.variables()} order, as flat doubles. For checks and tools.
   */
  public List<double[]> lossAndGradients(Batch batch, long stepSeed) {
    try (TInt64 seed = TInt64.scalarOf(stepSeed)) {
      Session.Runner r = batch.feed(model.session.runner(), model.inputs).feed(model.stepSeed, seed);
      r.fetch(model.totalLoss);
      grads.forEach(r::fetch);
      try (Result res = r.run()) {
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < res.size(); i++) {
          out.add(vector(res.get(i)));
        }
        return out;
      }
    }
  }

  /** {@link #run} with full tracing; returns the run's metadata (step stats list compiled XLA clusters). */
  public RunMetadata runTraced(Batch batch, long stepSeed) {
    return run(batch, stepSeed, true).metadata;
  }

  private record Outcome(StepMetrics metrics, RunMetadata metadata) {}

  private Outcome run(Batch batch, long stepSeed, boolean trace) {
    checkNotNull(batch, "batch");
    try (TInt64 seed = TInt64.scalarOf(stepSeed)) {
      Session.Runner r = batch.feed(model.session.runner(), model.inputs).feed(model.stepSeed, seed);
      fetches.forEach(r::fetch);
      r.addTarget(train);
      if (trace) {
        r.setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build());
      }
      try (Result res = trace ? r.runAndFetchMetadata() : r.run()) {
        double loss = scalar(res.get(0));
        double norm = scalar(res.get(6));
        long before = ((TInt32) res.get(7)).getInt();
        if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
          TBool ok = (TBool) res.get(8);
          List<String> bad = new ArrayList<>();
          List<ModelVariable<T>> params = model.store.variables();
          for (int i = 0; i < params.size(); i++) {
            if (!ok.getBoolean(i)) {
              bad.add(params.get(i).name());
            }
          }
          throw new NonFiniteException(before, loss, norm, bad);
        }
        List<MoeLayerMetrics> moe = new ArrayList<>();
        int k = 9;
        for (MoeLayerStats<T> s : model.outputs.moeLayers()) {
          moe.add(new MoeLayerMetrics(s.layer(), vector(res.get(k)), scalar(res.get(k + 1)), scalar(res.get(k + 2)),
              scalar(res.get(k + 3))));
          k += 4;
        }
        StepMetrics m = new StepMetrics(before + 1, loss, scalar(res.get(1)), scalar(res.get(2)), scalar(res.get(3)),
            scalar(res.get(4)), scalar(res.get(5)), norm, 0, moe);
        return new Outcome(m, trace ? res.getMetadata().orElse(null) : null);
      }
    }
  }

  static double scalar(Tensor t) {
    if (t instanceof TFloat32 f) {
      return f.getFloat();
    }
    if (t instanceof TFloat64 d) {
      return d.getDouble();
    }
    throw new IllegalStateException("expected a float tensor, got " + t.dataType());
  }

  static double[] vector(Tensor t) {
    int n = (int) t.shape().size();
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = t instanceof TFloat32 ? t.asRawTensor().data().asFloats().getFloat(i)
          : t.asRawTensor().data().asDoubles().getDouble(i);
    }
    return out;
  }

  @Override
  public void close() {
    model.close();
  }
}
