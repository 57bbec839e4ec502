package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;

import java.io.BufferedReader;
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
 * A cluster on 127.0.0.1 for tests and benchmarks: a chief (whose server the caller starts in its
 * own JVM, e.g. through {@link DistributedTraining#runChief}) and worker servers in child JVMs
 * ({@link ClusterServer#main}) on free ports. {@code Server.stop()} does not exist, so every cluster
 * has fresh ports, and {@link #close} kills the children.
 */
public final class LoopbackCluster implements AutoCloseable {

  /** How worker processes are started. */
  public record Options(int intraOpThreads, boolean pinToCores, String maxHeap) {
    public Options {
      checkArgument(intraOpThreads >= 0, "intraOpThreads must be >= 0 (0 = TF's default), got %s", intraOpThreads);
    }

    public static final Options DEFAULT = new Options(0, false, "1g");
  }

  public final ClusterSpec spec;
  public final Path file;
  private final Options options;
  private final List<Process> workers = new ArrayList<>();

  private LoopbackCluster(ClusterSpec spec, Path file, Options options) {
    this.spec = spec;
    this.file = file;
    this.options = options;
  }

  /** Writes {@code dir/cluster.json} and starts {@code workers} worker processes; waits until they listen. */
  public static LoopbackCluster start(Path dir, int workers, Options options) throws IOException {
    checkArgument(workers >= 1, "workers must be >= 1, got %s", workers);
    StringBuilder w = new StringBuilder();
    for (int i = 0; i < workers; i++) {
      w.append(i == 0 ? "" : ", ").append("\"127.0.0.1:").append(freePort()).append('"');
    }
    String json = "{\"cluster\": {\"chief\": [\"127.0.0.1:" + freePort() + "\"], \"worker\": [" + w + "]},"
        + " \"task\": {\"type\": \"chief\", \"index\": 0}}";
    Files.createDirectories(dir);
    Path file = dir.resolve("cluster.json");
    Files.writeString(file, json);
    LoopbackCluster c = new LoopbackCluster(ClusterSpec.parse(json, file.toString()), file, options);
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

  /** {@link #start(Path, int, Options)} with default options. */
  public static LoopbackCluster start(Path dir, int workers) throws IOException {
    return start(dir, workers, Options.DEFAULT);
  }

  /** Worker {@code i}'s process. */
  public Process worker(int i) {
    return workers.get(i);
  }

  /** Kills worker {@code i} (SIGKILL) and waits for it to end. */
  public void kill(int i) {
    workers.get(i).destroyForcibly();
    waitFor(workers.get(i));
  }

  /** Starts worker {@code i} again (after {@link #kill}) on its address. */
  public void restart(int i) throws IOException {
    workers.set(i, startWorker(i));
  }

  /** Starts worker {@code i}'s server process (pinned to core i when asked) and waits for its READY line. */
  private Process startWorker(int i) throws IOException {
    List<String> cmd = new ArrayList<>();
    if (options.pinToCores() && tasksetAvailable()) {
      cmd.addAll(List.of("taskset", "-c", String.valueOf(i % Runtime.getRuntime().availableProcessors())));
    }
    cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + options.maxHeap(),
        "-cp", System.getProperty("java.class.path"), ClusterServer.class.getName(), file.toString(), "--task",
        "worker:" + i, "--intra-op-threads", String.valueOf(options.intraOpThreads())));
    ProcessBuilder pb = new ProcessBuilder(cmd);
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

  /** True when {@code taskset} (util-linux) can pin processes here. */
  public static boolean tasksetAvailable() {
    try {
      Process p = new ProcessBuilder("taskset", "-p", String.valueOf(ProcessHandle.current().pid()))
          .redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static int waitFor(Process p) {
    try {
      return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** A port that was free a moment ago. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    workers.forEach(Process::destroyForcibly);
    workers.forEach(LoopbackCluster::waitFor);
  }
}
