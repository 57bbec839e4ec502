package dev.upcycle.train.distributed;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A cluster on 127.0.0.1 for tests: a chief (this JVM's server, started by the test) and worker
 * servers in child JVMs ({@link ClusterServer#main}), on free ports. {@code Server.stop()} does not
 * exist, so each cluster has fresh ports and the children are killed on close.
 */
final class LoopbackCluster implements AutoCloseable {

  final ClusterSpec spec;
  final Path file;
  final List<Process> workers = new ArrayList<>();

  private LoopbackCluster(ClusterSpec spec, Path file) {
    this.spec = spec;
    this.file = file;
  }

  /** Writes the cluster file and starts {@code workers} worker processes; waits until they listen. */
  static LoopbackCluster start(Path dir, int workers) throws IOException, InterruptedException {
    StringBuilder w = new StringBuilder();
    for (int i = 0; i < workers; i++) {
      w.append(i == 0 ? "" : ", ").append("\"127.0.0.1:").append(freePort()).append('"');
    }
    String json = "{\"cluster\": {\"chief\": [\"127.0.0.1:" + freePort() + "\"], \"worker\": [" + w + "]},"
        + " \"task\": {\"type\": \"chief\", \"index\": 0}}";
    Path file = dir.resolve("cluster.json");
    Files.writeString(file, json);
    LoopbackCluster c = new LoopbackCluster(ClusterSpec.parse(json, file.toString()), file);
    try {
      for (int i = 0; i < workers; i++) {
        c.workers.add(c.startWorker(i));
      }
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** Starts worker {@code i}'s server process and waits for its READY line. */
  Process startWorker(int i) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
        ClusterServer.class.getName(), file.toString(), "--task", "worker:" + i);
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(ClusterServer.READY)) {
        return p;
      }
    }
    p.destroyForcibly();
    throw new IOException("worker " + i + " exited before it listened (exit " + waitFor(p) + ")");
  }

  private static int waitFor(Process p) {
    try {
      return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static String classPath() {
    return System.getProperty("java.class.path").replace(File.pathSeparator, "\n");
  }

  @Override
  public void close() {
    workers.forEach(Process::destroyForcibly);
    workers.forEach(LoopbackCluster::waitFor);
  }
}
