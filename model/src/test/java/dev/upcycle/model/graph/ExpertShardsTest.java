package dev.upcycle.model.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

class ExpertShardsTest {

  static ExpertShards localCpus(int n) {
    List<DeviceSpec> devices = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      devices.add(DeviceSpec.newBuilder().job("localhost").replica(0).task(0).deviceType(DeviceSpec.DeviceType.CPU)
          .deviceIndex(i).build());
    }
    return ExpertShards.of(devices);
  }

  static Session session(Graph g, int cpus) {
    return new Session(g, ConfigProto.newBuilder().putDeviceCount("CPU", cpus).build());
  }

  /** [6, 2]: row e is (10e, 10e + 1). */
  static float[][] canonical() {
    float[][] rows = new float[6][2];
    for (int e = 0; e < 6; e++) {
      rows[e] = new float[] {10 * e, 10 * e + 1};
    }
    return rows;
  }

  static float[][] fetch(Session s, Operand<TFloat32> o) {
    try (Result r = s.runner().fetch(o).run()) {
      TFloat32 t = (TFloat32) r.get(0);
      return StdArrays.array2dCopyOf(t);
    }
  }

  @Test
  void shardSHoldsRowsSModuloNInOrder() {
    ExpertShards three = localCpus(3);
    assertArrayEquals(new int[] {1, 4}, three.experts(1, 6));
    assertArrayEquals(new int[] {2, 5}, three.experts(2, 6));
    assertEquals(2, three.shardOf(5));
    assertEquals(three.device(1), three.deviceOfExpert(4));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> three.experts(0, 4));
    assertTrue(e.getMessage().contains("moe.expert_shards 3 must divide the expert count 4"), e.getMessage());
  }

  @Test
  void rowsAndAssembleAreInverse() {
    ExpertShards three = localCpus(3);
    try (Graph g = new Graph(); Session s = session(g, 3)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> whole = tf.constant(canonical());
      List<Operand<TFloat32>> parts = List.of(three.rows(tf, whole, 0, 6), three.rows(tf, whole, 1, 6),
          three.rows(tf, whole, 2, 6));
      assertArrayEquals(new float[][] {{10, 11}, {40, 41}}, fetch(s, parts.get(1)));
      assertArrayEquals(canonical(), fetch(s, three.assemble(tf, parts, 6)));
    }
  }

  @Test
  void aPartedVariableLivesOnItsShardsAndReadsWritesTheCanonicalTensor() {
    ExpertShards two = localCpus(2);
    try (Graph g = new Graph(); Session s = session(g, 2)) {
      Ops tf = Ops.create(g).withDevice(two.device(0));
      PartedVariable<TFloat32> v = PartedVariable.create(tf, two, "layer/expert/w", TFloat32.class, new long[] {6, 2},
          suffix -> "w_" + suffix, tf.constant(canonical()));
      for (int p = 0; p < 2; p++) {
        assertEquals(two.device(p).toString(), ((GraphOperation) v.handles().get(p).op()).device(), "part " + p);
        assertEquals(Shape.of(3, 2), v.reads().get(p).shape());
      }
      s.runner().addTarget(v.initOp()).run();
      assertArrayEquals(canonical(), fetch(s, v.value()));
      assertArrayEquals(new float[][] {{10, 11}, {30, 31}, {50, 51}}, fetch(s, v.reads().get(1)));
      // an update written canonically lands in the parts' rows
      s.runner().addTarget(v.assign(tf, tf.math.neg(v.value()))).run();
      assertArrayEquals(new float[][] {{-10, -11}, {-30, -31}, {-50, -51}}, fetch(s, v.reads().get(1)));
      try (TFloat32 loaded = TFloat32.tensorOf(StdArrays.ndCopyOf(canonical()))) {
        s.runner().feed(v.loadValue(), loaded).addTarget(v.loadOp()).run();
      }
      assertArrayEquals(canonical(), fetch(s, v.value()));
    }
  }
}
