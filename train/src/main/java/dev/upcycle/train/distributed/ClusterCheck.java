package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.proto.ConfigProto;

/**
 * The state of every task of a cluster: whether its server accepts connections (within a timeout)
 * and the devices it offers, listed through a session on the task itself whose device filter keeps
 * the master from contacting the other tasks.
 */
public final class ClusterCheck {

  /** One task's state; {@code devices} is empty and {@code error} set when it is not usable. */
  public record TaskState(ClusterSpec.Task task, String address, boolean reachable, ImmutableList<String> devices,
      String error) {
    public boolean ok() {
      return reachable && !devices.isEmpty();
    }

    @Override
    public String toString() {
      return String.format("%-10s %-22s %s", task, address, ok() ? "ok      " + String.join(", ", devices)
          : (reachable ? "no devices: " : "UNREACHABLE: ") + error);
    }
  }

  private ClusterCheck() {}

  /** Checks every task of {@code cluster}, each within {@code timeout}. */
  public static List<TaskState> check(ClusterSpec cluster, Duration timeout) {
    checkNotNull(cluster, "cluster");
    checkArgument(!timeout.isNegative() && !timeout.isZero(), "timeout must be > 0, got %s", timeout);
    List<TaskState> out = new ArrayList<>();
    for (ClusterSpec.Task t : cluster.tasks()) {
      out.add(check(cluster, t, timeout));
    }
    return out;
  }

  /** Checks one task. */
  public static TaskState check(ClusterSpec cluster, ClusterSpec.Task task, Duration timeout) {
    String address = cluster.address(task);
    String reach = reach(address, timeout);
    if (reach != null) {
      return new TaskState(task, address, false, ImmutableList.of(), reach);
    }
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
      Thread th = new Thread(r, "cluster-check-" + task);
      th.setDaemon(true); // a master that never answers must not keep the JVM alive
      return th;
    });
    try {
      Future<List<String>> devices = pool.submit(() -> devices(cluster, task, timeout));
      return new TaskState(task, address, true, ImmutableList.copyOf(devices.get(timeout.toMillis(),
          TimeUnit.MILLISECONDS)), null);
    } catch (TimeoutException e) {
      return new TaskState(task, address, true, ImmutableList.of(), "no device list within " + timeout.toMillis()
          + " ms");
    } catch (ExecutionException e) {
      return new TaskState(task, address, true, ImmutableList.of(), String.valueOf(e.getCause().getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new TaskState(task, address, true, ImmutableList.of(), "interrupted");
    } finally {
      pool.shutdownNow();
    }
  }

  /** Null when a TCP connection to {@code address} opens within the timeout, else why not. */
  static String reach(String address, Duration timeout) {
    int colon = address.lastIndexOf(':');
    String host = address.substring(0, colon).replace("[", "").replace("]", "");
    int port = Integer.parseInt(address.substring(colon + 1));
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), Math.toIntExact(Math.max(1, timeout.toMillis())));
      return null;
    } catch (IOException e) {
      return "no connection to " + address + " within " + timeout.toMillis() + " ms (" + e.getMessage() + ")";
    }
  }

  private static List<String> devices(ClusterSpec cluster, ClusterSpec.Task task, Duration timeout) {
    String prefix = "/job:" + task.type() + "/replica:0/task:" + task.index();
    ConfigProto config = ConfigProto.newBuilder().addDeviceFilters(prefix)
        .setOperationTimeoutInMs(timeout.toMillis()).build();
    try (Graph g = new Graph(); Session s = TargetSessions.open(g, cluster.target(task), config)) {
      return TargetSessions.devices(s).stream().filter(d -> d.startsWith(prefix)).toList();
    }
  }

  /** The tasks of {@code states} that are not usable, as "task at address: why", or empty. */
  public static List<String> problems(List<TaskState> states) {
    return states.stream().filter(s -> !s.ok()).map(s -> s.task() + " at " + s.address() + ": " + s.error()).toList();
  }
}
