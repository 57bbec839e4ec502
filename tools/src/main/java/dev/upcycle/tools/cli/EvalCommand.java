package dev.upcycle.tools.cli;

import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.step.BatchSource;
import dev.upcycle.train.step.EvalJob;
import dev.upcycle.train.step.Evaluator;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle eval}: loss and accuracy of a checkpoint on held-out data. */
@Command(name = "eval", description = "Evaluate a checkpoint: loss and token (T5/LM) or top-1 (ViT) accuracy.")
public final class EvalCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Mixin ConfigOptions configOptions = new ConfigOptions();

  @Option(names = "--checkpoint", required = true, paramLabel = "CKPT", description = "Checkpoint folder or prefix.")
  Path checkpoint;

  @Option(names = "--data", required = true, paramLabel = "PATH", description = "TFRecord files or folders.")
  List<Path> data;

  @Option(names = "--batches", defaultValue = "10", description = "Batches to evaluate. Default: ${DEFAULT-VALUE}.")
  int batches;

  @Override
  public Integer call() throws Exception {
    TrainConfig config = configOptions.resolveFor(checkpoint, Map.of(), true);
    try (BatchSource source = DataSources.open(config, data, false, false, 0)) {
      Evaluator.Evaluation e = EvalJob.run(config, checkpoint, source, batches);
      spec.commandLine().getOut().printf("eval %s: loss %.4f, cross-entropy %.4f, accuracy %.4f over %d %s%n",
          checkpoint, e.loss(), e.crossEntropy(), e.accuracy(), e.counted(),
          config.modelSpec().arch() instanceof dev.upcycle.model.VitConfig ? "examples" : "tokens");
    }
    return 0;
  }
}
