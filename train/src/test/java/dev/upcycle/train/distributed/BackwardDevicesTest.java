package dev.upcycle.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Where {@link ReplicatedModel#backwardDevices} puts backward ops (TF's gradient builder gives them none). */
class BackwardDevicesTest {

  static final String REPLICA = "/job:localhost/replica:0/task:0/device:CPU:0";
  static final String SHARD_1 = "/job:localhost/replica:0/task:0/device:CPU:1";
  static final String SHARD_2 = "/job:localhost/replica:0/task:0/device:CPU:2";

  static NodeDef node(String name, String device, String... inputs) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp("Identity").setDevice(device);
    for (String in : inputs) {
      b.addInput(in);
    }
    return b.build();
  }

  @Test
  void aBackwardOpRunsWhereItsInputsAreWhenThatIsOneShard() {
    GraphDef def = GraphDef.newBuilder()
        .addNode(node("mapped", ""))                       // an input mapped from the training graph
        .addNode(node("expert_1/h", SHARD_1, "mapped"))    // forward op of an expert on shard 1
        .addNode(node("expert_2/h", SHARD_2, "mapped"))
        .addNode(node("expert_0/h", REPLICA, "mapped"))    // shard 0 shares the replica's device
        .addNode(node("dense", "", "mapped"))              // forward op on the replica's device
        .addNode(node("g/slice", "", "dense", "expert_1/h"))
        .addNode(node("g/matmul", "", "g/slice:0", "mapped"))
        .addNode(node("g/concat", "", "g/matmul", "expert_2/h"))
        .addNode(node("g/control", "", "dense", "^expert_1/h"))
        .addNode(node("g/dense", "", "dense", "mapped"))
        .addNode(node("g/shards01", "", "expert_0/h", "g/matmul"))
        .addNode(node("g/after", "", "g/shards01", "dense"))
        .build();
    Map<String, String> devices = ReplicatedModel.backwardDevices(def, Set.of("expert_0/h", "expert_1/h",
        "expert_2/h", "dense"), Set.of("g/slice", "g/matmul", "g/concat", "g/control", "g/dense", "g/shards01",
        "g/after"), REPLICA);
    assertEquals(SHARD_1, devices.get("g/slice"), "inputs on the replica and shard 1");
    assertEquals(SHARD_1, devices.get("g/matmul"), "follows a backward op on shard 1");
    assertEquals(REPLICA, devices.get("g/concat"), "inputs from two shards");
    assertEquals(REPLICA, devices.get("g/control"), "control inputs do not count");
    assertEquals(REPLICA, devices.get("g/dense"), "the replica's own ops");
    assertEquals(REPLICA, devices.get("g/shards01"), "inputs from shard 0 (on the replica's device) and shard 1");
    assertEquals(REPLICA, devices.get("g/after"), "a replica op does not become a shard's");
  }
}
