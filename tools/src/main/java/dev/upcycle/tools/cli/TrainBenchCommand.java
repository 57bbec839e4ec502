package dev.upcycle.tools.cli;

import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.tools.bench.BenchReport;
import dev.upcycle.tools.bench.BenchResult;
import dev.upcycle.tools.bench.InputBenchmark;
import dev.upcycle.tools.bench.MatmulCeiling;
import dev.upcycle.tools.bench.Timing;
import dev.upcycle.tools.bench.TrainBenchmark;
import dev.upcycle.model.graph.ComputeDevice;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.XlaMode;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcycle bench train}: train-step rates of t5-small and vit-tiny, dense and MoE, in each XLA mode,
 * against the matmul ceiling, plus the input pipeline's batch rate for the t5-small shape; ratio
 * {@code input_over_step} = input batches/s ÷ the fastest measured steps/s (target ≥ 5).
 */
@Command(name = "train", description = "Time train steps (t5-small, vit-tiny; dense/MoE; XLA modes; precisions) and the input pipeline (JSON).")
public final class TrainBenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--warmup", defaultValue = "2", description = "Untimed steps per case. Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(names = "--steps", defaultValue = "5", description = "Timed steps per case (median); the modes and"
      + " precisions of one model are timed round-robin, one step of each in turn. Default: ${DEFAULT-VALUE}.")
  int steps;

  @Option(names = "--only", paramLabel = "PART",
      description = "Only the cases of this model: t5-small or vit-tiny (default: both), or t5-base (dense and"
          + " Expert Choice E8 C2 MoE, 32 x 512 tokens: the GPU case, not in the default set).")
  String only;

  @Option(names = "--xla", paramLabel = "MODE", split = ",", defaultValue = "module,auto,off",
      description = "XLA modes to measure (off, auto, module). Default: ${DEFAULT-VALUE}.")
  List<String> xla;

  @Option(names = "--precision", paramLabel = "P", split = ",", defaultValue = "float32",
      description = "Precisions to measure (float32, bfloat16). Default: ${DEFAULT-VALUE}.")
  List<String> precision;

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto",
      description = "Where the steps compute: cpu, gpu or auto (a GPU when TF sees one). Default: ${DEFAULT-VALUE}.")
  String device;

  @Override
  public Integer call() throws Exception {
    List<XlaMode> modes;
    List<Precision> precisions;
    ComputeDevice where;
    try {
      modes = xla.stream().map(XlaMode::parse).toList();
      precisions = precision.stream().map(Precision::parse).toList();
      where = ComputeDevice.parse(device);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    where = where.resolve(); // no GPU for --device gpu: an execution error naming what TF sees
    var base = "t5-base".equals(only) ? TrainBenchmark.t5BaseCases() : TrainBenchmark.defaultCases().stream()
        .filter(c -> c.xla() == XlaMode.OFF && c.precision() == Precision.FLOAT32)
        .filter(c -> only == null || c.part().equals(only)).toList();
    var cases = TrainBenchmark.inModes(base, modes, precisions);
    if (cases.isEmpty()) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--only: no cases for '" + only
          + "'; expected t5-small, vit-tiny or t5-base");
    }
    System.err.println("measuring the matmul ceiling ...");
    double ceiling = MatmulCeiling.measure(MatmulCeiling.DEFAULT_SIZE, false, new Timing(1, 5)).gflops();
    BenchReport report = TrainBenchmark.run(cases, new TrainBenchmark.Options(warmup, steps, where), ceiling,
        System.err);
    System.err.println("benchmarking the input pipeline (t5-small batch shape) ...");
    double batchesPerS = InputBenchmark.t5BatchesPerSecond(new BatchShape(8, 128, 32), 200);
    report = report.withResult(BenchResult.untimed(BenchResult.name("input", "t5_small_batches", false))
        .with("batches_per_s", batchesPerS));
    // the fastest step measured is the hardest rate for the input pipeline to keep up with
    double fastestMs = report.results().stream().filter(r -> r.msPerStep() != null)
        .mapToDouble(r -> r.msPerStep().median()).min().orElse(0);
    if (fastestMs > 0) {
      report = report.withRatio("input_over_step", batchesPerS * fastestMs / 1000);
    }
    report.print(spec.commandLine().getOut());
    return 0;
  }
}
