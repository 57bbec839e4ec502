package dev.upcycle.tools.cli;

import dev.upcycle.model.graph.Precision;
import dev.upcycle.tools.bench.ModelBenchmark;
import dev.upcycle.tools.bench.Timing;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle bench model}: MLP block and whole-model step times vs the matmul ceiling. */
@Command(name = "model", description = "Time dense vs MoE MLP blocks (Expert Choice, Top-2, dropless Top-2) and a t5-small-sized model,"
    + " XLA on/off (JSON); --profile prints the top ops per block and whole model.")
public final class ModelBenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--repeats", defaultValue = "5", description = "Timed steps per variant (median). Default: ${DEFAULT-VALUE}.")
  int repeats;

  @Option(names = "--tokens", defaultValue = "4096", description = "Tokens in the block benchmark. Default: ${DEFAULT-VALUE}.")
  int tokens;

  @Option(names = "--model-batch", defaultValue = "16",
      description = "Examples per step of the whole-model case (128 input, 32 target tokens each). Default: ${DEFAULT-VALUE}.")
  int modelBatch;

  @Option(names = "--blocks-only", description = "Time the MLP blocks only, not the whole t5-small-sized models.")
  boolean blocksOnly;

  @Option(names = "--profile", arity = "0..1", fallbackValue = "3", defaultValue = "0", paramLabel = "STEPS",
      description = "After timing, trace STEPS steps of each block and whole model (TF step stats) and print the top ops by time on"
          + " stderr (STEPS defaults to 3 when the option is given without a value).")
  int profileSteps;

  @Option(names = "--precision", paramLabel = "P", defaultValue = "float32",
      description = "Matmul precision: float32 or bfloat16 (docs/xla.md). Default: ${DEFAULT-VALUE}.")
  String precision;

  private Precision parsedPrecision() {
    try {
      return Precision.parse(precision);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  @Override
  public Integer call() {
    ModelBenchmark.Options d = ModelBenchmark.defaults();
    ModelBenchmark.Options o = new ModelBenchmark.Options(tokens, d.d(), d.dFf(), d.experts(), modelBatch,
        d.modelInputLength(), d.modelTargetLength(), new Timing(2, repeats), !blocksOnly, profileSteps,
        parsedPrecision());
    ModelBenchmark.run(o, msg -> System.err.println("bench model: " + msg)).print(spec.commandLine().getOut());
    return 0;
  }
}
