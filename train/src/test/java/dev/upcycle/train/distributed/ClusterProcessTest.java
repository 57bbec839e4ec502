package dev.upcycle.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.SyntheticBatchSource;
import dev.upcycle.train.step.TrainStep;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.types.TFloat32;

/** Two worker processes and the chief (this JVM) on 127.0.0.1. */
class ClusterProcessTest {

  static final Duration TIMEOUT = Duration.ofSeconds(60);

  @Test
  void twoWorkerProcessesGiveTheOneProcessLossesAndRunOpsOnEveryTask(@TempDir Path dir) throws Exception {
    ModelSpec spec = DistributedModels.moe();
    List<Double> want = ReplicatedModelTest.oneProcess(spec);
    try (LoopbackCluster cluster = LoopbackCluster.start(dir, 2)) {
      ClusterServer.start(cluster.spec); // the chief's own server, in this JVM until it ends
      List<ClusterCheck.TaskState> states = ClusterCheck.check(cluster.spec, Duration.ofSeconds(20));
      assertEquals(List.of(), ClusterCheck.problems(states));
      for (ClusterCheck.TaskState s : states) {
        assertTrue(s.devices().contains(s.task().devicePrefix() + "/device:CPU:0"), s.toString());
      }
      Placement placement = Placement.cluster(cluster.spec, TIMEOUT);
      try (TrainStep<TFloat32> step = ReplicatedModelTest.replicated(spec, placement)) {
        ReplicatedModelTest.assertSameLosses(want, ReplicatedModelTest.losses(step, spec));
        SyntheticBatchSource data = new SyntheticBatchSource(spec, DistributedModels.SHAPE, TFloat32.class, 3);
        try (Batch b = data.nextBatch(3)) {
          RunMetadata md = step.runTraced(b, 3);
          Set<String> devices = new TreeSet<>();
          for (DeviceStepStats d : md.getStepStats().getDevStatsList()) {
            if (d.getNodeStatsCount() > 0) {
              devices.add(d.getDevice());
            }
          }
          for (var t : cluster.spec.computeTasks()) {
            assertTrue(devices.contains(Placement.cpu(t, 0).toString()), "ops on " + t + ": " + devices);
          }
        }
      }
    }
  }

  @Test
  void aKilledWorkerStopsTheStepWithinTheTimeout(@TempDir Path dir) throws Exception {
    ModelSpec spec = DistributedModels.dense();
    try (LoopbackCluster cluster = LoopbackCluster.start(dir, 2)) {
      ClusterServer.start(cluster.spec);
      Placement placement = Placement.cluster(cluster.spec, Duration.ofSeconds(20));
      SyntheticBatchSource data = new SyntheticBatchSource(spec, DistributedModels.SHAPE, TFloat32.class, 3);
      try (TrainStep<TFloat32> step = ReplicatedModelTest.replicated(spec, placement)) {
        try (Batch b = data.nextBatch(0)) {
          step.run(b, 0);
        }
        cluster.kill(1);
        long t0 = System.nanoTime();
        RuntimeException e = assertThrows(RuntimeException.class, () -> {
          try (Batch b = data.nextBatch(1)) {
            step.run(b, 1);
          }
        });
        double secs = (System.nanoTime() - t0) / 1e9;
        assertTrue(secs < 60, "the step failed after " + secs + " s");
        List<String> problems = ClusterCheck.problems(ClusterCheck.check(cluster.spec, Duration.ofSeconds(2)));
        String address = cluster.spec.address(new ClusterSpec.Task("worker", 1));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("worker:1 at " + address), problems + " after " + e);
      }
    }
  }
}
