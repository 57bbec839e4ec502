package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.Losses;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.SessionConfigs;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat32;

/**
 * The matmul replay of a step holds exactly the step's matmuls (shapes, transposes, dtypes, FLOPs)
 * and runs every one of them: counted in TensorFlow's own step stats, so none was pruned or merged.
 */
class MatmulReplayTest {

  @Test
  void specsKeepShapesTransposesAndDtypes() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> a = tf.zeros(tf.constant(new long[] {8, 4}), TFloat32.class);
      Operand<TFloat32> b = tf.zeros(tf.constant(new long[] {16, 8}), TFloat32.class);
      // [8, 4]ᵀ · [16, 8]ᵀ → [4, 16]
      Operand<TFloat32> ab = tf.linalg.matMul(a, b, MatMul.transposeA(true), MatMul.transposeB(true));
      Operand<TFloat32> q = tf.zeros(tf.constant(new long[] {2, 3, 5, 6}), TFloat32.class);
      // [2, 3, 5, 6] · [2, 3, 5, 6]ᵀ → [2, 3, 5, 5]
      Operand<TFloat32> qk = tf.train.batchMatMul(q, q, TFloat32.class, BatchMatMul.adjY(true));
      Operand<TBfloat16> h = tf.zeros(tf.constant(new long[] {4, 8}), TBfloat16.class);
      Operand<TBfloat16> hh = tf.linalg.matMul(h, tf.zeros(tf.constant(new long[] {8, 2}), TBfloat16.class));
      Op all = tf.withControlDependencies(List.of(ab, qk, hh)).noOp();
      List<MatmulReplay.Spec> specs = MatmulReplay.specsOf(all.op());
      assertEquals(3, specs.size(), specs.toString());
      MatmulReplay.Spec mm = only(specs, s -> s.type().equals("MatMul") && s.dtype() == DataType.DT_FLOAT);
      assertEquals(Shape.of(8, 4), mm.a());
      assertTrue(mm.transposeA() && mm.transposeB(), mm.toString());
      assertEquals(2.0 * 4 * 16 * 8, mm.flops());
      MatmulReplay.Spec bmm = only(specs, s -> s.type().startsWith("BatchMatMul"));
      assertFalse(bmm.transposeA());
      assertTrue(bmm.transposeB());
      assertEquals(2.0 * 2 * 3 * 5 * 5 * 6, bmm.flops());
      MatmulReplay.Spec low = only(specs, s -> s.dtype() == DataType.DT_BFLOAT16);
      assertEquals(2.0 * 4 * 2 * 8, low.flops());
      try (MatmulReplay replay = new MatmulReplay(specs, SessionConfigs.cpu(false))) {
        assertEquals(GraphFlops.matmul(all.op()), replay.flops(), 1e-9);
        assertEquals(3, tracedMatmuls(replay));
      }
    }
  }

  /** A whole (tiny) T5 MoE train step: every forward and gradient matmul is replayed, and only those. */
  @Test
  void replaysEveryMatmulOfAModelStep() {
    ModelSpec spec = ModelSpec.sparse(Presets.get("t5-tiny"), MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
    BatchShape shape = new BatchShape(2, 16, 8);
    try (ModelGraph<TFloat32> m = ModelGraph.build(spec, shape, TFloat32.class, true, 1, true,
        SessionConfigs.cpu(false), Losses.DEFAULT_Z_LOSS, 0, Precision.FLOAT32).initialize()) {
      List<ModelVariable<TFloat32>> vars = List.copyOf(m.store.variables());
      Op step = SgdStep.build(m.tf, vars, m.gradients, TFloat32.class, 1e-3);
      List<MatmulReplay.Spec> specs = MatmulReplay.specsOf(step.op());
      assertTrue(specs.stream().anyMatch(s -> s.type().equals("MatMul")), "no MatMul found");
      assertTrue(specs.stream().anyMatch(s -> s.type().startsWith("BatchMatMul")), "attention's BatchMatMul not found");
      try (MatmulReplay replay = new MatmulReplay(specs, SessionConfigs.cpu(false))) {
        assertEquals(GraphFlops.matmul(step.op()), replay.flops(), 1e-6);
        assertEquals(specs.size(), tracedMatmuls(replay));
      }
    }
  }

  @Test
  void refusesAnEmptyReplay() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MatmulReplay(List.of(), SessionConfigs.cpu(false)));
    assertTrue(e.getMessage().contains("at least one matmul"), e.getMessage());
  }

  private static int tracedMatmuls(MatmulReplay replay) {
    replay.run();
    return StepProfile.trace(replay::runner, 1).ops().stream().filter(o -> o.type().contains("MatMul"))
        .mapToInt(StepProfile.OpTime::count).sum();
  }

  private static MatmulReplay.Spec only(List<MatmulReplay.Spec> specs,
      Predicate<MatmulReplay.Spec> which) {
    List<MatmulReplay.Spec> found = specs.stream().filter(which).toList();
    assertEquals(1, found.size(), specs.toString());
    return found.get(0);
  }
}
