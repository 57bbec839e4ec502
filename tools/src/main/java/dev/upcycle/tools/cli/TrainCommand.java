package dev.upcycle.tools.cli;

import dev.upcycle.tools.progress.Progress;
import dev.upcycle.tools.progress.ProgressConsole;
import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.distributed.DistributedTraining;
import dev.upcycle.train.distributed.Placement;
import dev.upcycle.train.metrics.ProgressPrinter;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import dev.upcycle.train.step.BatchSource;
import dev.upcycle.train.step.TrainResult;
import dev.upcycle.train.step.Trainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle train}: a batch training job (T5, LM or ViT; dense or MoE). */
@Command(name = "train", description = "Train a model from a config (fresh, from a checkpoint, or resumed).")
public final class TrainCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Mixin ConfigOptions configOptions = new ConfigOptions();

  @Option(names = "--data", paramLabel = "PATH", description = "TFRecord files or folders of training examples.")
  List<Path> data = List.of();

  @Option(names = "--eval-data", paramLabel = "PATH", description = "Held-out TFRecords, evaluated every eval_every steps.")
  List<Path> evalData = List.of();

  @Option(names = "--synthetic", description = "Train on random batches (smoke tests, benchmarks).")
  boolean synthetic;

  @Option(names = "--init", paramLabel = "CKPT", description = "Start from this checkpoint (e.g. the output of convert).")
  Path init;

  @Option(names = "--resume", description = "Continue from the newest complete checkpoint of --output.")
  boolean resume;

  @Option(names = "--output", paramLabel = "DIR", description = "Run folder (config key output_dir).")
  Path output;

  @Option(names = "--steps", paramLabel = "N", description = "Stop at this step (config key train_steps).")
  Long steps;

  @Option(names = "--xla", paramLabel = "MODE",
      description = "XLA mode (config key xla): module (the whole step as one XLA module), auto (auto-clustering)"
          + " or off. Default: the config's, else the fastest measured (docs/xla.md).")
  String xla;

  @Option(names = "--no-xla", description = "Same as --xla off.")
  boolean noXla;

  @Option(names = "--device", paramLabel = "DEVICE",
      description = "Where the step computes (config key device): cpu, gpu or auto (a GPU when TF sees one)."
          + " Input and checkpoint I/O stay on the host.")
  String device;

  @Mixin ClusterOptions cluster = new ClusterOptions();

  @Option(names = "--local-replicas", paramLabel = "N",
      description = "Data-parallel replicas on N CPU devices of this process (in-graph, one update); with"
          + " moe.expert_shards N, one expert shard per device instead (docs/distributed.md).")
  Integer localReplicas;

  @Override
  public Integer call() throws Exception {
    if (cluster.given() && localReplicas != null) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--cluster and --local-replicas exclude each other");
    }
    Map<String, String> extra = new LinkedHashMap<>();
    if (output != null) {
      extra.put("output_dir", output.toString());
    }
    if (steps != null) {
      extra.put("train_steps", steps.toString());
    }
    if (noXla || xla != null) {
      extra.put("xla", noXla ? "off" : xla);
    }
    if (device != null) {
      extra.put("device", device);
    }
    TrainConfig config = configOptions.resolve(extra);
    // the model comes from the checkpoint the run starts from: its newest own one when resuming, else --init
    Optional<Path> latest = resume ? new CheckpointManager(Path.of(config.outputDir()).resolve("checkpoints"),
        config.keepCheckpoints()).latest() : Optional.empty();
    Optional<Path> start = latest.isPresent() ? latest : Optional.ofNullable(init);
    if (start.isPresent()) {
      config = configOptions.resolveFor(start.get(), extra, false);
    }
    try (BatchSource train = DataSources.open(config, data, synthetic, true, config.seed());
        BatchSource eval = evalData.isEmpty() ? null : DataSources.open(config, evalData, false, false, config.seed())) {
      TrainResult result;
      ProgressConsole console = ProgressConsole.stderr();
      try (BarListener bar = new BarListener(console)) {
        TrainListener listener = new ProgressPrinter(console.lines(), config.logEvery()).andThen(bar);
        if (cluster.given()) {
          result = DistributedTraining.runChief(cluster.spec(), cluster.timeout(), config, train,
              Optional.ofNullable(init), resume, listener, Optional.ofNullable(eval));
        } else {
          Trainer.StepFactory steps = localReplicas == null ? Trainer.ONE_PROCESS
              : DistributedTraining.steps(Placement.localCpus(localReplicas));
          result = Trainer.run(config, train, Optional.ofNullable(init), resume, listener, Optional.ofNullable(eval),
              steps);
        }
      }
      var out = spec.commandLine().getOut();
      out.printf("trained steps %d -> %d; run folder %s%n", result.startStep(), result.finalStep(), result.runDir());
      result.last().ifPresent(m -> out.printf("last step: loss %.4f, cross-entropy %.4f%n", m.loss(), m.crossEntropy()));
      result.checkpoints().forEach(c -> out.println("checkpoint " + c));
    }
    return 0;
  }

  /**
   * A terminal progress bar over steps; the plain log lines come from ProgressPrinter, written to
   * the console's {@link ProgressConsole#lines()} so that they are printed around the bar.
   */
  static final class BarListener implements TrainListener, AutoCloseable {
    private final ProgressConsole console;
    private Progress progress;
    private long last;

    BarListener(ProgressConsole console) {
      this.console = console;
    }

    @Override
    public void onStart(long step, long lastStep) {
      if (console.mode() == Progress.Mode.BAR) {
        progress = console.start("train", lastStep - step, "steps");
      }
      last = step;
    }

    @Override
    public void onStep(StepMetrics m) {
      if (progress != null) {
        progress.advance(m.step() - last);
      }
      last = m.step();
    }

    @Override
    public void close() {
      if (progress != null) {
        progress.close();
      }
    }
  }

}
