package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server}, {@code cluster check} and {@code train --cluster} on bad or unreachable clusters: exit 1, clear errors. */
class ClusterCommandsTest {

  @TempDir Path tmp;

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
    return new Run(code, out.toString(), err.toString());
  }

  private Path cluster(String json) throws Exception {
    return Files.writeString(tmp.resolve("cluster.json"), json);
  }

  @Test
  void clusterCheckReportsAnUnreachableTaskByNameAndAddress() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    Path file = cluster("{\"cluster\": {\"worker\": [\"127.0.0.1:" + port + "\"]}, \"task\": {\"type\": \"worker\","
        + " \"index\": 0}}");
    Run r = run("cluster", "check", "--cluster", file.toString(), "--cluster-timeout", "2");
    assertEquals(1, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("worker:0") && r.out().contains("127.0.0.1:" + port)
        && r.out().contains("UNREACHABLE") && r.out().contains("cluster NOT ready"), r.out());
  }

  @Test
  void serverRefusesAPortInUseNamingTheField() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      Path file = cluster("{\"cluster\": {\"chief\": [\"127.0.0.1:1\"], \"worker\": [\"127.0.0.1:"
          + taken.getLocalPort() + "\"]}, \"task\": {\"type\": \"chief\", \"index\": 0}}");
      Run r = run("server", "--cluster", file.toString(), "--task", "worker:0");
      assertEquals(1, r.code());
      assertTrue(r.err().contains("error: cluster.worker[0]: port " + taken.getLocalPort()), r.err());
    }
  }

  @Test
  void badSpecsFailBeforeAnyGraphIsBuilt() throws Exception {
    Path file = cluster("{\"cluster\": {\"worker\": [\"127.0.0.1:1\", \"127.0.0.1:1\"]}, \"task\": {\"type\":"
        + " \"worker\", \"index\": 0}}");
    Run r = run("cluster", "check", "--cluster", file.toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains("cluster.worker[1]: address 127.0.0.1:1 is also cluster.worker[0]"), r.err());
    Path two = cluster("{\"cluster\": {\"chief\": [\"127.0.0.1:1\"], \"worker\": [\"127.0.0.1:2\"]}, \"task\":"
        + " {\"type\": \"worker\", \"index\": 0}}");
    Run t = run("train", "--synthetic", "--cluster", two.toString(), "--output", tmp.resolve("run").toString());
    assertEquals(1, t.code(), t.err());
    assertTrue(t.err().contains("train --cluster runs on the chief (chief:0 at 127.0.0.1:1); this process is task"
        + " worker:0"), t.err());
    assertTrue(Files.notExists(tmp.resolve("run").resolve("checkpoints")), "nothing trained");
  }
}
