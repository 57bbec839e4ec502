package dev.upcycle.tools.cli;

import dev.upcycle.tools.bench.ConvertBenchmark;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle bench convert}: conversion throughput vs a plain copy, and peak RSS. */
@Command(name = "convert", description = "Time converting a T5 v1.1 Base-shaped checkpoint against a plain copy of the same number of bytes (JSON).")
public final class ConvertBenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--experts", defaultValue = "8", description = "Experts (8; 32 for the large run). Default: ${DEFAULT-VALUE}.")
  int experts;

  @Option(names = "--layers", defaultValue = "12", description = "Layers per stack (12 = Base). Default: ${DEFAULT-VALUE}.")
  int layers;

  @Option(names = "--repeats", defaultValue = "3",
      description = "Conversion + copy pairs; the figures are their medians. Default: ${DEFAULT-VALUE}.")
  int repeats;

  @Option(names = "--dir", description = "Scratch folder (needs ~1 GB + E/2 GB). Default: the temp folder.")
  Path dir;

  @Override
  public Integer call() throws Exception {
    ConvertBenchmark.Settings d = ConvertBenchmark.Settings.defaults();
    ConvertBenchmark.Settings s = new ConvertBenchmark.Settings(experts, layers, repeats, dir == null ? d.workParent() : dir,
        d.childHeap(), false);
    ConvertBenchmark.run(s, System.err).print(spec.commandLine().getOut());
    return 0;
  }
}
