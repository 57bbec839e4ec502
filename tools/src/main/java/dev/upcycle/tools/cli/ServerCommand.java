package dev.upcycle.tools.cli;

import dev.upcycle.train.distributed.ClusterServer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code upcycle server}: starts the TF server (gRPC) of this process's task of a cluster and
 * blocks; prints {@code READY <task> <address>} once it listens. The chief runs
 * {@code upcycle train --cluster} instead, which starts the chief's server itself.
 */
@Command(name = "server", description = "Start the TensorFlow server of one task of a cluster (TF_CONFIG) and block.")
public final class ServerCommand implements Callable<Integer> {

  @picocli.CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Mixin ClusterOptions cluster = new ClusterOptions();

  @picocli.CommandLine.Option(names = "--intra-op-threads", paramLabel = "N", defaultValue = "0",
      description = "Threads per op (and inter-op threads) on this task; 0 = TensorFlow's default. Default: ${DEFAULT-VALUE}.")
  int intraOpThreads;

  @Override
  public Integer call() throws Exception {
    ClusterServer.serve(cluster.spec(), intraOpThreads);
    return 0;
  }
}
