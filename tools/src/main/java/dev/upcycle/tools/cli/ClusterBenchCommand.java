package dev.upcycle.tools.cli;

import dev.upcycle.tools.bench.BenchReport;
import dev.upcycle.tools.bench.ClusterBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle bench cluster}: data-parallel steps/s on 1 vs 2 loopback workers, and an MoE with and without expert shards (JSON). */
@Command(name = "cluster", description = "Time data-parallel train steps on 1 and 2 TF worker processes on loopback,"
    + " and an MoE on 2 workers without and with expert shards (JSON).")
public final class ClusterBenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--per-replica-batch", defaultValue = "8", description = "Examples per worker. Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(names = "--input-length", defaultValue = "64", description = "Encoder length. Default: ${DEFAULT-VALUE}.")
  int inputLength;

  @Option(names = "--target-length", defaultValue = "16", description = "Decoder length. Default: ${DEFAULT-VALUE}.")
  int targetLength;

  @Option(names = "--d-model", defaultValue = "256", description = "Model width (d_ff = 4x). Default: ${DEFAULT-VALUE}.")
  int dModel;

  @Option(names = "--layers", defaultValue = "2", description = "Encoder and decoder layers. Default: ${DEFAULT-VALUE}.")
  int layers;

  @Option(names = "--experts", defaultValue = "8", description = "Experts of the MoE configurations (2 workers,"
      + " without and with moe.expert_shards 2); 0 = dense only. Default: ${DEFAULT-VALUE}.")
  int experts;

  @Option(names = "--warmup", defaultValue = "2", description = "Untimed steps. Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(names = "--steps", defaultValue = "5", description = "Timed steps (median). Default: ${DEFAULT-VALUE}.")
  int steps;

  @Override
  public Integer call() throws Exception {
    Path work = Files.createTempDirectory("upcycle-cluster-bench");
    BenchReport report = ClusterBenchmark.run(new ClusterBenchmark.Options(batch, inputLength, targetLength, dModel,
        layers, warmup, steps, experts), work, System.err);
    report.print(spec.commandLine().getOut());
    return 0;
  }
}
