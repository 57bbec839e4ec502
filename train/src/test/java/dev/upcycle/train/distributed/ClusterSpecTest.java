package dev.upcycle.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ServerDef;

class ClusterSpecTest {

  static String config(String cluster, String type, int index) {
    return "{\"cluster\": " + cluster + ", \"task\": {\"type\": \"" + type + "\", \"index\": " + index + "}}";
  }

  static String error(String json) {
    return assertThrows(IllegalArgumentException.class, () -> ClusterSpec.parse(json, "test.json")).getMessage();
  }

  @Test
  void parsesTensorFlowsFormat() {
    ClusterSpec c = ClusterSpec.parse(config("{\"chief\": [\"h0:2222\"], \"worker\": [\"h1:2222\", \"h2:2223\"],"
        + " \"ps\": [\"h3:2222\"]}", "worker", 1), "TF_CONFIG");
    assertEquals(new ClusterSpec.Task("worker", 1), c.task());
    assertEquals(new ClusterSpec.Task("chief", 0), c.chief());
    assertFalse(c.isChief());
    assertEquals("h2:2223", c.address(c.task()));
    assertEquals("grpc://h0:2222", c.target(c.chief()));
    assertEquals(4, c.tasks().size());
    assertEquals(List.of(new ClusterSpec.Task("chief", 0), new ClusterSpec.Task("worker", 0),
        new ClusterSpec.Task("worker", 1)), c.computeTasks());
    ServerDef def = c.serverDef();
    assertEquals("worker", def.getJobName());
    assertEquals(1, def.getTaskIndex());
    assertEquals("grpc", def.getProtocol());
    assertEquals("h2:2223", def.getCluster().getJobList().stream().filter(j -> j.getName().equals("worker"))
        .findFirst().orElseThrow().getTasksOrThrow(1));
    assertEquals(c, ClusterSpec.parse(c.toJson(), "round trip"));
  }

  @Test
  void workerZeroActsAsChiefWhenThereIsNoChief() {
    ClusterSpec c = ClusterSpec.parse(config("{\"worker\": [\"127.0.0.1:1\", \"127.0.0.1:2\"]}", "worker", 0), "x");
    assertEquals(new ClusterSpec.Task("worker", 0), c.chief());
    assertTrue(c.isChief());
    assertEquals("/job:worker/replica:0/task:0/device:CPU:0", Placement.cluster(c, java.time.Duration.ZERO)
        .parameterDevice().toString());
  }

  @Test
  void badSpecsAreClearErrorsNamingTheField() {
    assertTrue(error(config("{\"ps\": [\"h:1\"]}", "ps", 0)).contains("no chief"));
    assertTrue(error(config("{\"chief\": [\"h:1\", \"h:2\"]}", "chief", 0)).contains("cluster.chief must list exactly"
        + " one"));
    String dup = error(config("{\"chief\": [\"h:1\"], \"worker\": [\"h:2\", \"h:1\"]}", "chief", 0));
    assertTrue(dup.contains("cluster.worker[1]") && dup.contains("cluster.chief[0]"), dup);
    assertTrue(error(config("{\"worker\": [\"no-port\"]}", "worker", 0)).contains("cluster.worker[0]: malformed"
        + " address 'no-port'"));
    assertTrue(error(config("{\"worker\": [\"h:70000\"]}", "worker", 0)).contains("cluster.worker[0]: port 70000"));
    assertTrue(error(config("{\"worker\": [\"h:1\"]}", "worker", 1)).contains("task.index 1 is out of range"));
    assertTrue(error(config("{\"worker\": [\"h:1\"]}", "ps", 0)).contains("task.type 'ps'"));
    assertTrue(error(config("{\"worker\": [\"h:1\"], \"evaluator\": [\"h:2\"]}", "worker", 0))
        .contains("cluster.evaluator: unknown job"));
    assertTrue(error("{\"cluster\": {\"worker\": [\"h:1\"]}}").contains("'task'"));
    assertTrue(error("{nope").contains("test.json: not valid JSON"));
  }

  @Test
  void aPortInUseIsRefusedBeforeTensorFlowStarts() throws IOException {
    try (ServerSocket taken = new ServerSocket(0)) {
      ClusterSpec c = ClusterSpec.parse(config("{\"worker\": [\"127.0.0.1:" + taken.getLocalPort() + "\"]}", "worker",
          0), "x");
      String e = assertThrows(IllegalArgumentException.class, () -> ClusterServer.start(c)).getMessage();
      assertTrue(e.contains("cluster.worker[0]: port " + taken.getLocalPort()) && e.contains("in use"), e);
    }
  }
}
