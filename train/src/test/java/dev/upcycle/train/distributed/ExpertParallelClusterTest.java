package dev.upcycle.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.graph.ExpertShards;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.SyntheticBatchSource;
import dev.upcycle.train.step.TrainStep;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.GraphOperation;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.types.TFloat32;

/** {@code moe.expert_shards} 2 over two worker processes on 127.0.0.1 (the chief is this JVM). */
class ExpertParallelClusterTest {

  @Test
  void twoWorkerProcessesHoldTheExpertShardsAndGiveTheOneDeviceLosses(@TempDir Path dir) throws Exception {
    ModelSpec spec = DistributedModels.moe();
    List<Double> want = ExpertParallelTest.oneDevice(spec, DistributedModels.SHAPE);
    try (LoopbackCluster cluster = LoopbackCluster.start(dir, 2)) {
      ClusterServer.start(cluster.spec); // the chief's own server, in this JVM until it ends
      assertEquals(List.of(), ClusterCheck.problems(ClusterCheck.check(cluster.spec, Duration.ofSeconds(20))));
      Placement placement = Placement.cluster(cluster.spec, Duration.ofSeconds(60));
      ExpertShards shards = ExpertShards.of(placement.replicaDevices());
      try (TrainStep<TFloat32> step = ExpertParallelTest.sharded(spec, DistributedModels.SHAPE, placement)) {
        for (ModelVariable<TFloat32> v : step.model().store.variables()) {
          if (v.isParted()) {
            for (int s = 0; s < shards.count(); s++) {
              assertEquals("/job:worker/replica:0/task:" + s + "/device:CPU:0",
                  ((GraphOperation) v.parts().handles().get(s).op()).device(), v.name() + " part " + s);
            }
          }
        }
        ReplicatedModelTest.assertSameLosses(want, ExpertParallelTest.losses(step, spec, DistributedModels.SHAPE));
        SyntheticBatchSource data = new SyntheticBatchSource(spec, DistributedModels.SHAPE, TFloat32.class, 3);
        try (Batch b = data.nextBatch(3)) {
          RunMetadata md = step.runTraced(b, 3);
          Map<String, Set<Integer>> expertsByDevice = new TreeMap<>();
          for (DeviceStepStats d : md.getStepStats().getDevStatsList()) {
            for (NodeExecStats n : d.getNodeStatsList()) {
              Matcher m = ExpertParallelTest.EXPERT_OP.matcher(n.getNodeName());
              if (m.matches() && !n.getNodeName().matches(".*/_\\d+")) {
                expertsByDevice.computeIfAbsent(d.getDevice(), k -> new TreeSet<>()).add(Integer.parseInt(m.group(1)));
              }
            }
          }
          assertEquals(Map.of(shards.device(0).toString(), Set.of(0, 2), shards.device(1).toString(), Set.of(1, 3)),
              expertsByDevice, "the experts' ops by task");
          assertTrue(shards.device(1).toString().startsWith("/job:worker/replica:0/task:1"), shards.toString());
        }
      }
    }
  }
}
