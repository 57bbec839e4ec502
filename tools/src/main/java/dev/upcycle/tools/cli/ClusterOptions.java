package dev.upcycle.tools.cli;

import dev.upcycle.train.distributed.ClusterServer;
import dev.upcycle.train.distributed.ClusterSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The cluster options shared by {@code server}, {@code cluster check} and {@code train --cluster}. */
final class ClusterOptions {

  @Option(names = "--cluster", arity = "0..1", fallbackValue = "", paramLabel = "FILE",
      description = "The cluster as TF_CONFIG JSON (cluster: chief/worker/ps address lists; task: type, index),"
          + " from FILE, or from the TF_CONFIG environment variable when FILE is omitted.")
  String cluster;

  @Option(names = "--task", paramLabel = "TYPE:INDEX",
      description = "This process's task (overrides the file's task), e.g. worker:1.")
  String task;

  @Option(names = "--cluster-timeout", paramLabel = "SECONDS", defaultValue = "60",
      description = "Timeout of each task check and of every blocking cluster operation (a step). Default:"
          + " ${DEFAULT-VALUE}.")
  double timeoutSeconds;

  boolean given() {
    return cluster != null;
  }

  ClusterSpec spec() throws IOException {
    ClusterSpec spec = ClusterSpec.load(cluster == null || cluster.isEmpty() ? Optional.empty()
        : Optional.of(Path.of(cluster)));
    return task == null ? spec : spec.forTask(ClusterServer.parseTask(task));
  }

  Duration timeout() {
    if (!(timeoutSeconds > 0)) {
      throw new IllegalArgumentException("--cluster-timeout must be > 0 seconds, got " + timeoutSeconds);
    }
    return Duration.ofMillis(Math.round(timeoutSeconds * 1000));
  }
}
