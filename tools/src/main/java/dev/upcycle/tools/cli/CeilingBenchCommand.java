package dev.upcycle.tools.cli;

import dev.upcycle.tools.bench.BenchReport;
import dev.upcycle.tools.bench.BenchResult;
import dev.upcycle.tools.bench.MachineInfo;
import dev.upcycle.tools.bench.MatmulCeiling;
import dev.upcycle.tools.bench.Timing;
import dev.upcycle.tools.progress.Progress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code upcycle bench ceiling}: the machine's f32 matmul GFLOP/s, without and with XLA.
 * {@code ceiling_gflops} is the best of the measured variants; ratio {@code xla_over_noxla} is the
 * XLA median time over the no-XLA median time.
 */
@Command(
    name = "ceiling",
    description = "Measure the f32 matmul ceiling (GFLOP/s) with TensorFlow and print a JSON report.")
public final class CeilingBenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--size", defaultValue = "" + MatmulCeiling.DEFAULT_SIZE,
      description = "Matrix size n (n x n times n x n). Default: ${DEFAULT-VALUE}.")
  int size;

  @Option(names = "--warmup", defaultValue = "3", description = "Untimed warmup runs. Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(names = "--repeats", defaultValue = "10", description = "Timed runs (median reported). Default: ${DEFAULT-VALUE}.")
  int repeats;

  @Option(names = "--xla", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Also measure with XLA auto-clustering (--no-xla: only without). Default: ${DEFAULT-VALUE}.")
  boolean xla;

  @Override
  public Integer call() {
    if (size < 1) {
      throw new ParameterException(spec.commandLine(), "--size must be >= 1, got " + size);
    }
    if (warmup < 0 || repeats < 1) {
      throw new ParameterException(spec.commandLine(),
          "--warmup must be >= 0 and --repeats >= 1, got " + warmup + " and " + repeats);
    }
    MachineInfo machine = MachineInfo.detect(); // loads the TensorFlow runtime before anything is timed
    Timing timing = new Timing(warmup, repeats);
    List<MatmulCeiling.Measurement> measured = new ArrayList<>();
    measured.add(measure(false, timing));
    if (xla) {
      measured.add(measure(true, timing));
    }
    double ceiling = measured.stream().mapToDouble(MatmulCeiling.Measurement::gflops).max().orElseThrow();
    List<BenchResult> results = new ArrayList<>();
    for (MatmulCeiling.Measurement m : measured) {
      results.add(m.toResult(ceiling));
    }
    Map<String, Double> ratios = new LinkedHashMap<>();
    if (measured.size() == 2) {
      ratios.put("xla_over_noxla", measured.get(1).msPerRun().median() / measured.get(0).msPerRun().median());
    }
    new BenchReport("ceiling", machine, ceiling, results, ratios).print(spec.commandLine().getOut());
    return 0;
  }

  private MatmulCeiling.Measurement measure(boolean xla, Timing timing) {
    String label = "matmul f32 " + (xla ? "xla" : "noxla");
    try (Progress progress = Progress.start(label, timing.totalRuns(), "runs")) {
      return MatmulCeiling.measure(size, xla, timing, () -> progress.advance(1));
    }
  }
}
