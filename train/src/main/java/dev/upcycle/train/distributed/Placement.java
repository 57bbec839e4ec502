package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import dev.upcycle.model.graph.SessionConfigs;
import java.time.Duration;
import java.util.Optional;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.proto.ConfigProto;

/**
 * Where a replicated step runs: the device holding the one copy of the variables (and the
 * optimizer update), one device per data-parallel replica, and how its session is opened: over
 * local CPU devices of this process ({@code ConfigProto.device_count}), or through the master of
 * a cluster task ({@code grpc://host:port}).
 *
 * @param parameterDevice the device of the variables, e.g. {@code /job:chief/replica:0/task:0/device:CPU:0}
 * @param replicaDevices the device of each replica, in batch-shard order
 * @param target the session target; empty for an in-process session
 * @param localCpus CPU devices the in-process session creates (1 for a target session)
 * @param timeout deadline of every blocking operation of the session (a step, a restore): a step
 *     that waits on a dead task fails after it; zero = none
 */
public record Placement(DeviceSpec parameterDevice, ImmutableList<DeviceSpec> replicaDevices, Optional<String> target,
    int localCpus, Duration timeout) {

  private static final ClusterSpec.Task LOCAL_TASK = new ClusterSpec.Task("localhost", 0);

  public Placement {
    checkNotNull(parameterDevice, "parameterDevice");
    checkArgument(replicaDevices != null && !replicaDevices.isEmpty(), "a placement needs at least one replica device");
    checkNotNull(target, "target");
    checkArgument(localCpus >= 1, "localCpus must be >= 1, got %s", localCpus);
    checkArgument(timeout != null && !timeout.isNegative(), "timeout must be >= 0, got %s", timeout);
  }

  /** {@code n} CPU devices in this process: variables on CPU:0, replica i on CPU:i. */
  public static Placement localCpus(int n) {
    checkArgument(n >= 1, "local replicas must be >= 1, got %s", n);
    ImmutableList.Builder<DeviceSpec> replicas = ImmutableList.builder();
    for (int i = 0; i < n; i++) {
      replicas.add(cpu(LOCAL_TASK, i));
    }
    return new Placement(cpu(LOCAL_TASK, 0), replicas.build(), Optional.empty(), n, Duration.ZERO);
  }

  /**
   * A cluster: variables on {@code ps:0} when the cluster has a ps job, else on the chief (worker 0
   * when there is no chief); one replica per worker task (the chief's task only when there are no
   * workers); the session goes through the chief's server, each blocking operation within
   * {@code timeout}.
   */
  public static Placement cluster(ClusterSpec cluster, Duration timeout) {
    checkNotNull(cluster, "cluster");
    ClusterSpec.Task holder = cluster.jobs().containsKey(ClusterSpec.PS) ? new ClusterSpec.Task(ClusterSpec.PS, 0)
        : cluster.chief();
    ImmutableList.Builder<DeviceSpec> replicas = ImmutableList.builder();
    int workers = cluster.jobs().getOrDefault(ClusterSpec.WORKER, ImmutableList.of()).size();
    if (workers == 0) {
      replicas.add(cpu(cluster.chief(), 0));
    }
    for (int i = 0; i < workers; i++) {
      replicas.add(cpu(new ClusterSpec.Task(ClusterSpec.WORKER, i), 0));
    }
    return new Placement(cpu(holder, 0), replicas.build(),
        Optional.of(cluster.target(cluster.chief())), 1, timeout);
  }

  /** CPU {@code index} of {@code task}: {@code /job:<type>/replica:0/task:<index>/device:CPU:<index>}. */
  public static DeviceSpec cpu(ClusterSpec.Task task, int index) {
    return DeviceSpec.newBuilder().job(task.type()).replica(0).task(task.index())
        .deviceType(DeviceSpec.DeviceType.CPU).deviceIndex(index).build();
  }

  public int replicas() {
    return replicaDevices.size();
  }

  /** The session config: XLA per {@code xla}, plus the local CPU device count. */
  public ConfigProto sessionConfig(boolean xla) {
    ConfigProto.Builder c = SessionConfigs.cpu(xla).toBuilder();
    if (target.isEmpty()) {
      c.putDeviceCount("CPU", localCpus);
    }
    c.setOperationTimeoutInMs(timeout.toMillis());
    return c.build();
  }

  /** Opens the session of this placement over {@code graph}. */
  public Session open(Graph graph, boolean xla) {
    ConfigProto config = sessionConfig(xla);
    return target.isPresent() ? TargetSessions.open(graph, target.get(), config) : new Session(graph, config);
  }
}
