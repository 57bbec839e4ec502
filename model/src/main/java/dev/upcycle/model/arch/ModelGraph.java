package dev.upcycle.model.arch;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.model.graph.VariableStore;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * A model built in its own graph and session: placeholders, forward outputs, losses and (when
 * asked) the gradients of the total loss with respect to every variable. Owns graph and session.
 */
public final class ModelGraph<T extends TFloating> implements AutoCloseable {

  public final ModelSpec spec;
  public final BatchShape shape;
  public final Graph graph;
  public final Session session;
  public final Ops tf;
  public final VariableStore<T> store;
  public final BuildContext<T> ctx;
  public final ModelInputs<T> inputs;
  public final ModelOutputs<T> outputs;
  public final Losses.TokenLoss<T> loss;
  public final Operand<T> totalLoss;
  /** Step seed for dropout / jitter (scalar int64), fed by the caller when training. */
  public final Placeholder<TInt64> stepSeed;
  /** d totalLoss / d variable, in {@link VariableStore#variables()} order; null unless requested. */
  public final Output<?>[] gradients;

  private ModelGraph(ModelSpec spec, BatchShape shape, Class<T> dtype, boolean training, long seed,
      boolean withGradients, ConfigProto config, double zLossFactor, double labelSmoothing, Precision precision) {
    this.spec = spec;
    this.shape = shape;
    this.graph = new Graph();
    try {
      this.tf = Ops.create(graph);
      this.store = new VariableStore<>(tf, dtype, seed);
      this.stepSeed = tf.withName("step_seed").placeholder(TInt64.class,
          Placeholder.shape(org.tensorflow.ndarray.Shape.scalar()));
      this.ctx = BuildContext.create(tf, store, training, stepSeed, precision);
      this.inputs = ModelInputs.create(tf, spec, shape, dtype);
      this.outputs = Models.forward(ctx.scope("model"), spec, inputs);
      this.loss = Models.loss(ctx.scope("loss"), spec, inputs, outputs, zLossFactor, labelSmoothing);
      this.totalLoss = Models.totalLoss(ctx.scope("loss"), spec, loss, outputs);
      if (withGradients) {
        dev.upcycle.model.gradients.MissingGradients.registerAll();
      }
      this.gradients = withGradients
          ? graph.addGradients(totalLoss.asOutput(),
              store.values().stream().map(Operand::asOutput).toArray(Output[]::new))
          : null;
      this.session = new Session(graph, config);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  private ModelGraph(ModelSpec spec, BatchShape shape, Graph graph, Session session, Ops tf, VariableStore<T> store,
      BuildContext<T> ctx, ModelInputs<T> inputs, ModelOutputs<T> outputs, Losses.TokenLoss<T> loss,
      Operand<T> totalLoss, Placeholder<TInt64> stepSeed, Output<?>[] gradients) {
    this.spec = spec;
    this.shape = shape;
    this.graph = graph;
    this.session = session;
    this.tf = tf;
    this.store = store;
    this.ctx = ctx;
    this.inputs = inputs;
    this.outputs = outputs;
    this.loss = loss;
    this.totalLoss = totalLoss;
    this.stepSeed = stepSeed;
    this.gradients = gradients;
  }

  /**
   * A model whose parts were built elsewhere in {@code graph} (in-graph data-parallel replicas,
   * {@code dev.upcycle.train.distributed.ReplicatedModel}): {@code inputs} are fed whole,
   * {@code loss}, {@code totalLoss} and {@code gradients} cover the whole batch. Takes ownership of
   * graph and session.
   */
  public static <T extends TFloating> ModelGraph<T> assemble(ModelSpec spec, BatchShape shape, Graph graph,
      Session session, Ops tf, VariableStore<T> store, BuildContext<T> ctx, ModelInputs<T> inputs,
      ModelOutputs<T> outputs, Losses.TokenLoss<T> loss, Operand<T> totalLoss, Placeholder<TInt64> stepSeed,
      Output<?>[] gradients) {
    return new ModelGraph<>(spec, shape, graph, session, tf, store, ctx, inputs, outputs, loss, totalLoss, stepSeed,
        gradients);
  }

  /** Builds the model; XLA auto-clustering on or off per {@code xla}. */
  public static <T extends TFloating> ModelGraph<T> build(ModelSpec spec, BatchShape shape, Class<T> dtype,
      boolean training, long seed, boolean withGradients, boolean xla) {
    dev.upcycle.model.moe.MoeLayer.checkXla(spec.moe().orElse(null), xla, "xla");
    return new ModelGraph<>(spec, shape, dtype, training, seed, withGradients, SessionConfigs.cpu(xla),
        Losses.DEFAULT_Z_LOSS, 0, Precision.FLOAT32);
  }

  /**
   * Builds the model with an explicit session config and loss settings: logit z-loss factor
   * ({@link Losses#DEFAULT_Z_LOSS} by default) and label smoothing (0 by default).
   */
  public static <T extends TFloating> ModelGraph<T> build(ModelSpec spec, BatchShape shape, Class<T> dtype,
      boolean training, long seed, boolean withGradients, ConfigProto config, double zLossFactor,
      double labelSmoothing) {
    return build(spec, shape, dtype, training, seed, withGradients, config, zLossFactor, labelSmoothing,
        Precision.FLOAT32);
  }

  /**
   * {@link #build(ModelSpec, BatchShape, Class, boolean, long, boolean, ConfigProto, double, double)}
   * with a matmul precision.
   */
  public static <T extends TFloating> ModelGraph<T> build(ModelSpec spec, BatchShape shape, Class<T> dtype,
      boolean training, long seed, boolean withGradients, ConfigProto config, double zLossFactor,
      double labelSmoothing, Precision precision) {
    return new ModelGraph<>(spec, shape, dtype, training, seed, withGradients, config, zLossFactor, labelSmoothing,
        precision);
  }

  /** Fresh weights from the seed. */
  public ModelGraph<T> initialize() {
    store.initialize(session);
    return this;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
