package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.train.distributed.ClusterServer;
import dev.upcycle.train.distributed.LoopbackCluster;
import dev.upcycle.train.distributed.Placement;
import dev.upcycle.train.distributed.ReplicatedModel;
import dev.upcycle.train.optim.Adafactor;
import dev.upcycle.train.optim.Schedule;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.SyntheticBatchSource;
import dev.upcycle.train.step.TrainStep;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.tensorflow.types.TFloat32;

/**
 * Data-parallel train steps over TF servers on 127.0.0.1: the same per-replica batch on 1 and on 2
 * worker processes (weak scaling), each worker pinned to one core ({@code taskset}, when present)
 * with one intra-op thread, so both configurations give each replica the same core. The chief
 * (this JVM) holds the variables and applies the update. Figures per configuration: steps/s,
 * examples/s, the bytes received over gRPC in one traced step ({@code bytes_per_step}) and what the
 * in-graph replicas move by construction ({@code bytes_per_step_model}: each worker reads every
 * variable and sends back every gradient, plus its input shard).
 * Ratio {@code scaling_2_over_1_workers} = examples/s with 2 workers ÷ with 1 (ideal 2).
 */
public final class ClusterBenchmark {

  /** What is measured. */
  public record Options(int perReplicaBatch, int inputLength, int targetLength, int dModel, int layers, int warmup,
      int steps) {
    public Options {
      checkArgument(perReplicaBatch >= 1 && inputLength >= 1 && targetLength >= 1, "batch and lengths must be >= 1");
      checkArgument(dModel >= 8 && dModel % 4 == 0, "d_model must be a multiple of 4 and >= 8, got %s", dModel);
      checkArgument(layers >= 1 && warmup >= 0 && steps >= 1, "layers, steps must be >= 1 and warmup >= 0");
    }
  }

  private ClusterBenchmark() {}

  /** The dense T5 measured: d_ff = 4·d_model, 4 heads, {@code layers} + {@code layers}, 1024 tokens of vocabulary. */
  static ModelSpec model(Options o) {
    T5Config base = (T5Config) dev.upcycle.model.Presets.get("t5-tiny");
    T5Config c = new T5Config(o.dModel(), 4 * o.dModel(), 4, o.dModel() / 4, o.layers(), o.layers(), 1024,
        base.relativeBuckets(), base.relativeMaxDistance(), 0.0);
    return ModelSpec.dense(c);
  }

  public static BenchReport run(Options o, Path workDir, PrintStream progress) throws IOException {
    MachineInfo machine = MachineInfo.detect();
    BenchReport report = new BenchReport("cluster", machine, 0, List.of(), java.util.Map.of());
    boolean pinned = LoopbackCluster.tasksetAvailable();
    ModelSpec spec = model(o);
    double[] examplesPerS = new double[3];
    for (int workers = 1; workers <= 2; workers++) {
      progress.printf("cluster bench: %d worker(s), per-replica batch %d, pinned %s ...%n", workers,
          o.perReplicaBatch(), pinned);
      Path dir = Files.createDirectories(workDir.resolve("workers_" + workers));
      try (LoopbackCluster cluster = LoopbackCluster.start(dir, workers, new LoopbackCluster.Options(1, true, "2g"))) {
        ClusterServer.start(cluster.spec, 1); // the chief's server lives until this JVM ends
        BatchShape shape = new BatchShape(o.perReplicaBatch() * workers, o.inputLength(), o.targetLength());
        TrainStep.Options so = new TrainStep.Options(Adafactor.defaults(), Schedule.rsqrt(0.01, 10), 1.0, XlaMode.OFF, 1e-4,
            0, 1);
        try (TrainStep<TFloat32> step = TrainStep.over(ReplicatedModel.build(spec, shape, TFloat32.class, 1, 1e-4, 0,
                Placement.cluster(cluster.spec, Duration.ofMinutes(5)), false), so).initialize();
            Batch batch = new SyntheticBatchSource(spec, shape, TFloat32.class, 1).nextBatch(0)) {
          long[] s = {0};
          Timing.Stats ms = new Timing(o.warmup(), o.steps()).measure(() -> step.run(batch, s[0]++));
          long paramBytes = 0;
          for (ModelVariable<TFloat32> v : step.model().store.variables()) {
            paramBytes += 4 * v.numElements();
          }
          long inputBytes = 4L * shape.batch() * (o.inputLength() + 2L * o.targetLength());
          long measured = receivedBytes(step.runTraced(batch, s[0]++), progress);
          double stepsPerS = 1000 / ms.median();
          examplesPerS[workers] = stepsPerS * shape.batch();
          String name = BenchResult.name("cluster", workers == 1 ? "1_worker" : workers + "_workers", false);
          report = report.withResult(BenchResult.timed(name, ms)
              .withTokensPerStep((double) shape.batch() * o.inputLength())
              .with("workers", workers).with("steps_per_s", stepsPerS).with("examples_per_s", examplesPerS[workers])
              .with("bytes_per_step", (double) measured)
              .with("bytes_per_step_model", (double) workers * 2 * paramBytes + inputBytes)
              .with("parameters", paramBytes / 4).with("pinned_one_core_per_worker", pinned ? "yes" : "no")
              .with("load_1m", load()));
        }
      }
    }
    return report.withRatio("scaling_2_over_1_workers", examplesPerS[2] / examplesPerS[1]);
  }

  /**
   * Bytes received over gRPC in a traced step: the workers' and chief's {@code RecvTensor} entries
   * of the step stats (variables and shards to the workers, gradients and statistics back; with one
   * device per task every one of them crosses tasks).
   */
  static long receivedBytes(org.tensorflow.proto.RunMetadata md, PrintStream progress) {
    long bytes = 0;
    int transfers = 0;
    for (var d : md.getStepStats().getDevStatsList()) {
      for (var n : d.getNodeStatsList()) {
        if (!n.getNodeName().equals("RecvTensor")) {
          continue;
        }
        transfers++;
        for (var out : n.getOutputList()) {
          bytes += out.getTensorDescription().getAllocationDescription().getRequestedBytes();
        }
      }
    }
    progress.printf("  traced step: %d tensors received over gRPC, %d bytes%n", transfers, bytes);
    return bytes;
  }

  /** The 1-minute load average (other processes share the cores), or -1 where /proc is missing. */
  static double load() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
