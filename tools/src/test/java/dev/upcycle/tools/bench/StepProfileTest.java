package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.types.TFloat32;

/** The per-op profile of a traced step: op types from the timeline labels, the matmul found. */
class StepProfileTest {

  @Test
  void opTypeComesFromTheTimelineLabel() {
    assertEquals("_MklMatMul", StepProfile.opType(NodeExecStats.newBuilder().setNodeName("block/mm")
        .setTimelineLabel("block/mm = _MklMatMul(a, b)").build()));
    assertEquals("_SOURCE", StepProfile.opType(NodeExecStats.newBuilder().setNodeName("_SOURCE").build()));
  }

  @Test
  void tracesAMatmulStep() {
    try (Graph g = new Graph(); Session s = new Session(g);
        TFloat32 ones = TFloat32.tensorOf(Shape.of(64, 64), t -> t.scalars().forEach(x -> x.setFloat(1f)))) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> a = tf.placeholder(TFloat32.class);
      Operand<TFloat32> y = tf.linalg.matMul(a, a);
      StepProfile p = StepProfile.trace(() -> s.runner().feed(a, ones).fetch(y), 2);
      assertTrue(p.ops().stream().anyMatch(o -> o.type().contains("MatMul")), p.format("matmul", 20));
      assertTrue(p.wallMs() > 0);
      assertTrue(p.format("matmul", 3).startsWith("matmul: traced step"), p.format("matmul", 3));
      assertThrows(IllegalArgumentException.class, () -> StepProfile.trace(() -> s.runner().fetch(y), 0));
    }
  }
}
