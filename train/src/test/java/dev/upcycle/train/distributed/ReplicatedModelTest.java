package dev.upcycle.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.SyntheticBatchSource;
import dev.upcycle.train.step.TrainStep;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.types.TFloat32;

class ReplicatedModelTest {

  /** float32 sums in another order: relative per-step loss difference allowed. */
  static final double TOLERANCE = 1e-5;
  static final int STEPS = 3;

  static List<Double> losses(TrainStep<TFloat32> step, ModelSpec spec) {
    SyntheticBatchSource data = new SyntheticBatchSource(spec, DistributedModels.SHAPE, TFloat32.class, 3);
    List<Double> out = new ArrayList<>();
    for (long s = 0; s < STEPS; s++) {
      try (Batch b = data.nextBatch(s)) {
        out.add(step.run(b, s).loss());
      }
    }
    return out;
  }

  static List<Double> oneProcess(ModelSpec spec) {
    try (TrainStep<TFloat32> step = TrainStep.build(spec, DistributedModels.SHAPE, TFloat32.class,
        DistributedModels.options()).initialize()) {
      return losses(step, spec);
    }
  }

  static TrainStep<TFloat32> replicated(ModelSpec spec, Placement placement) {
    return replicated(spec, placement, DistributedModels.options());
  }

  static TrainStep<TFloat32> replicated(ModelSpec spec, Placement placement, TrainStep.Options o) {
    return TrainStep.over(ReplicatedModel.build(spec, DistributedModels.SHAPE, TFloat32.class, o.initSeed(),
        o.zLossFactor(), o.labelSmoothing(), placement, o.xla().autoClustering()), o).initialize();
  }

  static void assertSameLosses(List<Double> want, List<Double> got) {
    assertEquals(want.size(), got.size());
    for (int s = 0; s < want.size(); s++) {
      assertEquals(want.get(s), got.get(s), TOLERANCE * Math.abs(want.get(s)), "loss at step " + s + ": " + got
          + " vs one process " + want);
    }
    assertTrue(want.get(0) > want.get(STEPS - 1) || !want.get(0).equals(want.get(STEPS - 1)),
        "the steps changed the weights: " + want);
  }

  @Test
  void twoLocalDevicesGiveTheOneProcessLossesDense() {
    ModelSpec spec = DistributedModels.dense();
    List<Double> want = oneProcess(spec);
    try (TrainStep<TFloat32> step = replicated(spec, Placement.localCpus(2))) {
      assertSameLosses(want, losses(step, spec));
    }
  }

  @Test
  void xlaAutoClusteringOfTheReplicasGivesTheSameLosses() {
    ModelSpec spec = DistributedModels.moe();
    TrainStep.Options o = DistributedModels.options();
    TrainStep.Options xla = new TrainStep.Options(o.optimizer(), o.schedule(), o.clipNorm(), XlaMode.AUTO, o.zLossFactor(),
        o.labelSmoothing(), o.initSeed());
    try (TrainStep<TFloat32> step = replicated(spec, Placement.localCpus(2), xla)) {
      assertSameLosses(oneProcess(spec), losses(step, spec));
    }
  }

  @Test
  void oneReplicaGivesTheOneProcessLosses() {
    ModelSpec spec = DistributedModels.dense();
    try (TrainStep<TFloat32> step = replicated(spec, Placement.localCpus(1))) {
      assertSameLosses(oneProcess(spec), losses(step, spec));
    }
  }

  @Test
  void twoLocalDevicesGiveTheOneProcessLossesMoeExpertChoiceAndTop2() {
    ModelSpec spec = DistributedModels.moe();
    List<Double> want = oneProcess(spec);
    try (TrainStep<TFloat32> step = replicated(spec, Placement.localCpus(2))) {
      assertSameLosses(want, losses(step, spec));
    }
  }

  @Test
  void stepStatsShowForwardAndBackwardOnEveryDevice() {
    ModelSpec spec = DistributedModels.moe();
    Placement placement = Placement.localCpus(2);
    SyntheticBatchSource data = new SyntheticBatchSource(spec, DistributedModels.SHAPE, TFloat32.class, 3);
    try (TrainStep<TFloat32> step = replicated(spec, placement); Batch b = data.nextBatch(0)) {
      RunMetadata md = step.runTraced(b, 0);
      Map<String, List<String>> byDevice = new HashMap<>();
      for (DeviceStepStats d : md.getStepStats().getDevStatsList()) {
        List<String> names = byDevice.computeIfAbsent(d.getDevice(), k -> new ArrayList<>());
        for (NodeExecStats n : d.getNodeStatsList()) {
          names.add(n.getNodeName());
        }
      }
      for (int r = 0; r < placement.replicas(); r++) {
        String device = placement.replicaDevices().get(r).toString();
        List<String> names = byDevice.getOrDefault(device, List.of());
        String forward = "replica_" + r + "/";
        String backward = "replica_" + r + "_backward/";
        assertTrue(names.stream().anyMatch(n -> n.startsWith(forward)), "forward ops of replica " + r + " on " + device
            + "; devices: " + byDevice.keySet());
        assertTrue(names.stream().anyMatch(n -> n.startsWith(backward)), "backward ops of replica " + r + " on "
            + device);
        for (Map.Entry<String, List<String>> e : byDevice.entrySet()) {
          if (!e.getKey().equals(device)) {
            // a _Send/_Recv between devices is named <source op>/_<n>: not the op itself
            List<String> elsewhere = e.getValue().stream().filter(n -> n.startsWith(forward) || n.startsWith(backward))
                .filter(n -> !n.matches(".*/_\\d+")).toList();
            assertTrue(elsewhere.isEmpty(), "replica " + r + " ops ran on " + e.getKey() + ": " + elsewhere);
          }
        }
      }
      Set<String> variableDevices = new java.util.HashSet<>();
      for (var v : step.model().store.variables()) {
        variableDevices.add(((org.tensorflow.GraphOperation) v.handle().op()).device());
      }
      assertEquals(Set.of(placement.parameterDevice().toString()), variableDevices, "one copy of the variables");
    }
  }

  @Test
  void routingGroupsThatWouldSpanReplicasAreRefused() {
    ModelSpec spec = ModelSpec.sparse(DistributedModels.t5(), MoeConfig.paperT5(4).withGroupSize(32),
        SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER);
    TrainStep.Options o = DistributedModels.options();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReplicatedModel.build(spec,
        DistributedModels.SHAPE, TFloat32.class, 7, 1e-4, 0, Placement.localCpus(2), false));
    assertTrue(e.getMessage().contains("moe.group_size 32"), e.getMessage());
    IllegalArgumentException odd = assertThrows(IllegalArgumentException.class, () -> ReplicatedModel.build(spec,
        new BatchShape(3, 8, 8), TFloat32.class, 7, 1e-4, 0, Placement.localCpus(2), o.xla().autoClustering()));
    assertTrue(odd.getMessage().contains("batch_size 3"), odd.getMessage());
  }
}
