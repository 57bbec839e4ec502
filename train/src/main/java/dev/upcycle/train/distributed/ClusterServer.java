package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Optional;
import org.tensorflow.Server;
import org.tensorflow.proto.ConfigProto;

/**
 * The TF server (gRPC) of one task of a cluster. {@code Server.stop()} is unimplemented in TF Java
 * (TFJAVA-NOTES.md): a server lives until its process ends, so each task runs in its own process
 * ({@code upcycle server}) and tests use free ports.
 */
public final class ClusterServer {

  /** Printed (and flushed) on stdout once the server listens: {@code READY <task> <address>}. */
  public static final String READY = "READY";

  private ClusterServer() {}

  /**
   * Starts the server of {@code cluster.task()}. Its port must be free: a port in use is an error
   * naming the task's field of the cluster spec, raised before TensorFlow starts.
   */
  public static Server start(ClusterSpec cluster) {
    return start(cluster, 0);
  }

  /**
   * {@link #start(ClusterSpec)} with {@code intraOpThreads} threads per op on this task (0 =
   * TensorFlow's default, one per core); inter-op threads are then the same number.
   */
  public static Server start(ClusterSpec cluster, int intraOpThreads) {
    checkNotNull(cluster, "cluster");
    checkArgument(intraOpThreads >= 0, "intra-op threads must be >= 0, got %s", intraOpThreads);
    String address = cluster.address(cluster.task());
    String field = "cluster." + cluster.task().type() + "[" + cluster.task().index() + "]";
    int port = ClusterSpec.port(address, field);
    checkArgument(portFree(port), "%s: port %s of %s is in use on this host (another server or process has it)", field,
        port, address);
    ConfigProto config = ConfigProto.newBuilder().setIntraOpParallelismThreads(intraOpThreads)
        .setInterOpParallelismThreads(intraOpThreads).build();
    Server server = new Server(cluster.serverDef(config));
    server.start();
    return server;
  }

  static boolean portFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true); // as gRPC binds: a port only in TIME_WAIT is free, a listening one is not
      s.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Starts this process's task server and blocks. Args: the cluster file (TF_CONFIG JSON), or none
   * to read {@code TF_CONFIG}, then optionally {@code --task TYPE:INDEX} (overrides the task) and
   * {@code --intra-op-threads N}.
   */
  public static void main(String[] args) throws IOException {
    Optional<Path> file = args.length > 0 && !args[0].startsWith("--") ? Optional.of(Path.of(args[0])) : Optional.empty();
    ClusterSpec cluster = ClusterSpec.load(file);
    int threads = 0;
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("--task")) {
        cluster = cluster.forTask(parseTask(args[i + 1]));
      } else if (args[i].equals("--intra-op-threads")) {
        threads = Integer.parseInt(args[i + 1]);
      }
    }
    serve(cluster, threads);
  }

  /** Starts the server, prints {@link #READY}, and blocks until the process ends. */
  public static void serve(ClusterSpec cluster, int intraOpThreads) {
    Server server = start(cluster, intraOpThreads);
    System.out.println(READY + " " + cluster.task() + " " + cluster.address(cluster.task()));
    System.out.flush();
    server.join();
  }

  /** {@code worker:1} → the task. */
  public static ClusterSpec.Task parseTask(String text) {
    int colon = text.indexOf(':');
    checkArgument(colon > 0, "--task must be TYPE:INDEX (e.g. worker:1), got %s", text);
    try {
      return new ClusterSpec.Task(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--task must be TYPE:INDEX (e.g. worker:1), got " + text, e);
    }
  }
}
