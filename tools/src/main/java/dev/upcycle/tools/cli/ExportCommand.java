package dev.upcycle.tools.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.savedmodels.ExportOptions;
import dev.upcycle.savedmodels.SavedModelExporter;
import dev.upcycle.train.config.TrainConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle export}: a checkpoint as a TF Serving SavedModel ({@code <to>/<version>/}). */
@Command(name = "export", description = "Export a checkpoint as a TF Serving SavedModel (<to>/<version>/).")
public final class ExportCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Mixin ConfigOptions configOptions = new ConfigOptions();

  @Option(names = "--checkpoint", required = true, paramLabel = "CKPT",
      description = "Checkpoint folder or prefix; the model comes from its provenance (a training step folder also"
          + " brings its run config: lengths, batch).")
  Path checkpoint;

  @Option(names = "--to", required = true, paramLabel = "BASE", description = "Model base folder TF Serving watches.")
  Path to;

  @Option(names = "--version", defaultValue = "1", description = "Version folder number. Default: ${DEFAULT-VALUE}.")
  long version;

  @Option(names = "--batch", defaultValue = "8",
      description = "Largest request (the graph's static batch; smaller requests are padded). Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(names = "--length",
      description = "LM / T5: the input length of the graph (LM requests hold up to length - 1 tokens). Default: the config's input_length.")
  Integer length;

  @Option(names = "--target-length",
      description = "T5: decoder positions (greedy output up to target-length - 1 tokens). Default: the config's target_length.")
  Integer targetLength;

  @Option(names = "--eval-capacity-factor", paramLabel = "C", defaultValue = "0",
      description = "MoE: the capacity factor of every capacity router in the serving graph (flaxformer's"
          + " eval_capacity_factor; V-MoE serves with a smaller one). Changes the outputs: a smaller C computes less"
          + " and drops more tokens. Default: the trained model's own.")
  double evalCapacityFactor;

  @Option(names = "--overwrite", description = "Replace an existing version folder.")
  boolean overwrite;

  @Option(names = "--no-verify", description = "Skip loading the result with TensorFlow before publishing it.")
  boolean noVerify;

  @Override
  public Integer call() throws Exception {
    TrainConfig config = configOptions.resolveFor(checkpoint, Map.of(), true);
    int len = length != null ? length : Math.max(2, config.batchShape().inputLength());
    int tlen = targetLength != null ? targetLength : Math.max(2, config.batchShape().targetLength());
    ExportOptions options = new ExportOptions(batch, len, tlen, version, overwrite, !noVerify,
        evalCapacityFactor);
    SavedModelExporter.ExportResult r = SavedModelExporter.export(config.modelSpec(), checkpoint, to, options,
        new ObjectMapper().readTree(config.toJson()), line -> System.err.println("export: " + line));
    spec.commandLine().getOut().printf("exported %s: %d variables, %.1f MB, %s, %.1f s%n", r.versionDir(),
        r.variables(), r.variableBytes() / 1e6, r.verified() ? "loaded and run in TensorFlow" : "not verified",
        r.took().toMillis() / 1e3);
    return 0;
  }
}
