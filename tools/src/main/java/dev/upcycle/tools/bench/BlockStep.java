package dev.upcycle.tools.bench;

import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.arch.FlopCount;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.model.graph.VariableStore;
import dev.upcycle.model.layers.Mlp;
import dev.upcycle.model.moe.ExpertKind;
import dev.upcycle.model.moe.MoeLayer;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * One training step of a single MLP block on {@code [1, tokens, d]} activations held in a variable:
 * the dense gated-GELU MLP or an MoE layer, loss {@code mean(y²)}, gradients, SGD update. The
 * activations are updated too, so their gradient is computed as it is for a block inside a model
 * ({@link FlopCount.Backward#WEIGHTS_AND_INPUT}, {@link #BACKWARD}).
 */
final class BlockStep implements AutoCloseable {

  /** What the backward pass of this step computes. */
  static final FlopCount.Backward BACKWARD = FlopCount.Backward.WEIGHTS_AND_INPUT;

  private final Graph graph = new Graph();
  private final Session session;
  private final Op step;

  /** {@code moe} null builds the dense block. */
  BlockStep(int tokens, int d, int dFf, MoeConfig moe, boolean xla, Precision precision) {
    MoeLayer.checkXla(moe, xla, "bench block xla");
    Ops tf = Ops.create(graph);
    VariableStore<TFloat32> store = new VariableStore<>(tf, TFloat32.class, 17);
    BuildContext<TFloat32> ctx = BuildContext.create(tf, store, true, null, precision);
    // activations live in their own store (so they are not block weights) but take an update too
    VariableStore<TFloat32> data = new VariableStore<>(tf.withSubScope("data"), TFloat32.class, 3);
    Operand<TFloat32> x = data.get("activations", new long[] {1, tokens, d}, Initializer.normal(1.0));
    Operand<TFloat32> y = moe == null
        ? Mlp.gatedGelu(ctx, "block/mlp", x, dFf, 0)
        : MoeLayer.apply(ctx, "block/mlp", x, moe, false, dFf, ExpertKind.GATED_GELU).output();
    Operand<TFloat32> loss = tf.math.mean(tf.math.square(y), tf.constant(new int[] {0, 1, 2}));
    List<ModelVariable<TFloat32>> vars = new ArrayList<>(store.variables());
    List<Operand<TFloat32>> values = new ArrayList<>(store.values());
    vars.addAll(data.variables());
    values.addAll(data.values());
    Output<?>[] grads = graph.addGradients(loss.asOutput(), values.stream().map(Operand::asOutput).toArray(Output[]::new));
    step = SgdStep.build(tf, vars, grads, TFloat32.class, 1e-3);
    session = new Session(graph, SessionConfigs.cpu(xla));
    store.initialize(session);
    data.initialize(session);
  }

  void run() {
    session.runner().addTarget(step).run();
  }

  Graph graph() {
    return graph;
  }

  Session session() {
    return session;
  }

  /** The op a step runs. */
  Op step() {
    return step;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
