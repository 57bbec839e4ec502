package dev.upcycle.model.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;

/**
 * Ops built through {@link XlaExclusion#ops} carry {@code _XlaCompile = false} (also through derived
 * scopes), and under auto-clustering TF runs them as its own kernels: the same element-wise chain
 * built plainly runs as a compiled cluster ({@code _XlaRun}). Values agree.
 */
class XlaExclusionTest {

  @Test
  void everyOpBuiltThroughItAndItsDerivedScopesIsMarked() {
    try (Graph g = new Graph()) {
      Ops tf = XlaExclusion.ops(Ops.create(g));
      assertSame(tf, XlaExclusion.ops(tf));
      Operand<TFloat32> a = tf.withSubScope("sub").constant(1f);
      Operand<TFloat32> b = tf.withName("named").math.add(a, a);
      Operand<TFloat32> c = tf.withControlDependencies(List.of(b)).math.mul(b, b);
      for (Operand<TFloat32> x : List.of(a, b, c)) {
        assertFalse(((GraphOperation) x.op()).attributes().getAttrBool(XlaExclusion.XLA_COMPILE_ATTR), x.op().name());
      }
      assertTrue(b.op().name().equals("named") && a.op().name().startsWith("sub/"), a.op().name() + ", " + b.op().name());
      assertEquals(1, ((GraphOperation) c.op()).controlInputs().size());
    }
  }

  @Test
  void autoClusteringLeavesMarkedOpsToTensorFlow() {
    assertTrue(SessionConfigs.cpuJitEnabled(), "tests run with the project's TF_XLA_FLAGS (see pom)");
    Run plain = run(tf -> tf);
    Run excluded = run(XlaExclusion::ops);
    assertTrue(plain.nodes.stream().anyMatch(n -> n.contains("_XlaRun")), "plain chain not clustered: " + plain.nodes);
    assertFalse(excluded.nodes.stream().anyMatch(n -> n.contains("_XlaRun")), "excluded chain clustered: " + excluded.nodes);
    assertTrue(excluded.nodes.stream().anyMatch(n -> n.contains("= Tanh(")), "Tanh kernel not run: " + excluded.nodes);
    assertEquals(plain.value, excluded.value, 1e-4 * Math.abs(plain.value));
  }

  private static TFloat32 input() {
    float[] v = new float[64 * 64];
    for (int i = 0; i < v.length; i++) {
      v[i] = 0.01f * (i / 64 - i % 64);
    }
    return TFloat32.tensorOf(Shape.of(64, 64), DataBuffers.of(v));
  }

  private record Run(List<String> nodes, float value) {}

  /** An element-wise chain on a fed [64, 64] input, built by {@code ops}, run traced with auto-clustering. */
  private static Run run(Function<Ops, Ops> ops) {
    try (Graph g = new Graph(); Session s = new Session(g, SessionConfigs.cpu(true));
        TFloat32 in = input()) {
      Ops base = Ops.create(g);
      var x = base.placeholder(TFloat32.class);
      Ops tf = ops.apply(base);
      Operand<TFloat32> y = x;
      for (int i = 0; i < 4; i++) {
        y = tf.math.add(tf.math.tanh(tf.math.mul(y, tf.constant(1.5f))), tf.math.square(y));
      }
      Operand<TFloat32> sum = tf.reduceSum(y, tf.constant(new int[] {0, 1}));
      for (int i = 0; i < 2; i++) {
        s.runner().feed(x, in).fetch(sum).run().close();
      }
      List<String> nodes = new ArrayList<>();
      try (Result r = s.runner().feed(x, in).fetch(sum)
          .setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build())
          .runAndFetchMetadata()) {
        for (DeviceStepStats d : r.getMetadata().orElseThrow().getStepStats().getDevStatsList()) {
          for (NodeExecStats n : d.getNodeStatsList()) {
            nodes.add(n.getNodeName() + " " + n.getTimelineLabel());
          }
        }
        return new Run(nodes, ((TFloat32) r.get(0)).getFloat());
      }
    }
  }
}
