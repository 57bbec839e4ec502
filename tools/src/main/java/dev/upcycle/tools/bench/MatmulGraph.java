package dev.upcycle.tools.bench;

import dev.upcycle.model.graph.SessionConfigs;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssignVariableOp;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ReadVariableOp;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.TFloat32;

/**
 * A graph computing {@code c = a · b} for random f32 matrices {@code a, b: [n, n]}.
 *
 * <p>{@code a} and {@code b} are resource variables filled once through placeholders, so nothing is
 * a constant that grappler could fold; each step assigns the product to the variable {@code c}, so
 * the whole {@code [n, n]} result must be materialised and nothing is pruned, without copying it
 * out of the runtime.
 */
final class MatmulGraph implements AutoCloseable {

  private final int n;
  private final Graph graph;
  private final Session session;
  private final AssignVariableOp step;
  private final ReadVariableOp<TFloat32> readC;
  private final float[] a;
  private final float[] b;

  MatmulGraph(int n, boolean xla, long seed) {
    checkArgument(n >= 1, "matmul size must be >= 1, got %s", n);
    this.n = n;
    Shape shape = Shape.of(n, n);
    this.a = randomMatrix(n, new Random(seed));
    this.b = randomMatrix(n, new Random(seed + 1));
    this.graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> aIn = tf.withName("a_in").placeholder(TFloat32.class, Placeholder.shape(shape));
      Placeholder<TFloat32> bIn = tf.withName("b_in").placeholder(TFloat32.class, Placeholder.shape(shape));
      // each handle needs its own shared_name: with the empty default all three are one resource
      VarHandleOp aVar = tf.withName("a").varHandleOp(TFloat32.class, shape, VarHandleOp.sharedName("a"));
      VarHandleOp bVar = tf.withName("b").varHandleOp(TFloat32.class, shape, VarHandleOp.sharedName("b"));
      VarHandleOp cVar = tf.withName("c").varHandleOp(TFloat32.class, shape, VarHandleOp.sharedName("c"));
      AssignVariableOp initA = tf.withName("init_a").assignVariableOp(aVar, aIn);
      AssignVariableOp initB = tf.withName("init_b").assignVariableOp(bVar, bIn);
      // [n, n] · [n, n] -> [n, n]
      var product = tf.withName("product").linalg.matMul(
          tf.readVariableOp(aVar, TFloat32.class), tf.readVariableOp(bVar, TFloat32.class));
      this.step = tf.withName("step").assignVariableOp(cVar, product);
      this.readC = tf.withName("read_c").readVariableOp(cVar, TFloat32.class);
      this.session = BenchSessions.openInitialized(graph, SessionConfigs.cpu(xla),
          s -> fill(s, shape, aIn, bIn, initA, initB));
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** Feeds the random inputs into the variables {@code a} and {@code b}. */
  private void fill(Session s, Shape shape, Placeholder<TFloat32> aIn, Placeholder<TFloat32> bIn,
      AssignVariableOp initA, AssignVariableOp initB) {
    try (TFloat32 aT = TFloat32.tensorOf(shape, DataBuffers.of(a, true, false));
         TFloat32 bT = TFloat32.tensorOf(shape, DataBuffers.of(b, true, false))) {
      s.runner().feed(aIn, aT).feed(bIn, bT).addTarget(initA).addTarget(initB).run().close();
    }
  }

  /** One product {@code c = a · b}: {@code 2 n³} FLOPs. */
  void runStep() {
    // nothing fetched: the assignment is the work
    session.runner().addTarget(step).run().close();
  }

  /** The last computed product, row-major {@code [n, n]}. */
  float[] product() {
    float[] out = new float[n * n];
    try (Result r = session.runner().fetch(readC).run()) {
      ((TFloat32) r.get(0)).asRawTensor().data().asFloats().read(out);
    }
    return out;
  }

  /** The inputs, row-major {@code [n, n]} (copies). */
  float[] a() {
    return a.clone();
  }

  float[] b() {
    return b.clone();
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }

  private static float[] randomMatrix(int n, Random random) {
    float[] m = new float[n * n];
    for (int i = 0; i < m.length; i++) {
      m[i] = random.nextFloat() * 2 - 1;
    }
    return m;
  }
}
