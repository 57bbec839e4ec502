package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.SparseLayout;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.types.TFloat32;

/**
 * Data-parallel train steps over TF servers on 127.0.0.1: the same per-replica batch on 1 and on 2
 * worker processes (weak scaling), each worker pinned to one core ({@code taskset}, when present)
 * with one intra-op thread, so both configurations give each replica the same core. The chief
 * (this JVM) holds the variables and applies the update. Figures per configuration: steps/s,
 * examples/s, the bytes received over gRPC in one traced step ({@code bytes_per_step}) and what the
 * in-graph replicas move by construction ({@code bytes_per_step_model}: each worker reads every
 * variable and sends back every gradient, plus its input shard). Then, with {@link Options#experts}
 * above 0, the same T5 as an MoE ({@link #moeModel}) on 2 workers, once with data parallelism only
 * ({@code 2_workers_moe}) and once with {@code moe.expert_shards} 2 ({@code
 * 2_workers_moe_expert_shards_2}: experts split over the two workers).
 * Ratios: {@code scaling_2_over_1_workers} = examples/s with 2 workers ÷ with 1 (ideal 2);
 * {@code moe_expert_shards_over_replicated_bytes_per_step} and {@code ..._steps_per_s}, sharded ÷
 * data parallelism only.
 */
public final class ClusterBenchmark {

  /**
   * What is measured.
   *
   * @param experts experts of the MoE configurations (Expert Choice encoder, Top-2 decoder on every
   *     other layer, the dense model's MLP upcycled in shape); 0 = dense only
   */
  public record Options(int perReplicaBatch, int inputLength, int targetLength, int dModel, int layers, int warmup,
      int steps, int experts) {
    public Options {
      checkArgument(perReplicaBatch >= 1 && inputLength >= 1 && targetLength >= 1, "batch and lengths must be >= 1");
      checkArgument(dModel >= 8 && dModel % 4 == 0, "d_model must be a multiple of 4 and >= 8, got %s", dModel);
      checkArgument(layers >= 1 && warmup >= 0 && steps >= 1, "layers, steps must be >= 1 and warmup >= 0");
      checkArgument(experts == 0 || (experts >= 2 && experts % 2 == 0),
          "experts must be 0 (dense only) or even and >= 2 (split over 2 shards), got %s", experts);
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

  /**
   * The MoE measured: {@link #model}'s T5 with {@code o.experts()} experts on every other layer, the
   * paper's T5 routers, routing groups of one replica's decoder tokens (so they stay inside a replica).
   */
  static ModelSpec moeModel(Options o) {
    MoeConfig moe = MoeConfig.paperT5(o.experts()).withGroupSize(o.perReplicaBatch() * o.targetLength());
    return ModelSpec.sparse(model(o).arch(), moe, SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER);
  }

  /** One measured configuration: the model, its worker count, {@code moe.expert_shards}, the result's variant. */
  private record Config(ModelSpec spec, int workers, int expertShards, String variant) {}

  public static BenchReport run(Options o, Path workDir, PrintStream progress) throws IOException {
    MachineInfo machine = MachineInfo.detect();
    BenchReport report = new BenchReport("cluster", machine, 0, List.of(), Map.of());
    List<Config> configs = new ArrayList<>(List.of(new Config(model(o), 1, 1, "1_worker"),
        new Config(model(o), 2, 1, "2_workers")));
    if (o.experts() > 0) {
      configs.add(new Config(moeModel(o), 2, 1, "2_workers_moe"));
      configs.add(new Config(moeModel(o), 2, 2, "2_workers_moe_expert_shards_2"));
    }
    Map<String, BenchResult> byVariant = new HashMap<>();
    for (Config c : configs) {
      BenchResult r = measure(o, c, workDir, progress);
      byVariant.put(c.variant(), r);
      report = report.withResult(r);
    }
    report = report.withRatio("scaling_2_over_1_workers", figure(byVariant.get("2_workers"), "examples_per_s")
        / figure(byVariant.get("1_worker"), "examples_per_s"));
    if (o.experts() > 0) {
      BenchResult replicated = byVariant.get("2_workers_moe");
      BenchResult sharded = byVariant.get("2_workers_moe_expert_shards_2");
      report = report.withRatio("moe_expert_shards_over_replicated_bytes_per_step",
          figure(sharded, "bytes_per_step") / figure(replicated, "bytes_per_step"))
          .withRatio("moe_expert_shards_over_replicated_steps_per_s",
              figure(sharded, "steps_per_s") / figure(replicated, "steps_per_s"));
    }
    return report;
  }

  /** The numeric figure {@code name} of {@code r}. */
  static double figure(BenchResult r, String name) {
    Object v = r.figures().get(name);
    checkArgument(v instanceof Number, "bench result '%s' has no numeric figure '%s': %s", r.name(), name,
        r.figures());
    return ((Number) v).doubleValue();
  }

  /** Starts {@code c.workers()} pinned workers and a chief server, and times the replicated step on them. */
  private static BenchResult measure(Options o, Config c, Path workDir, PrintStream progress) throws IOException {
    boolean pinned = LoopbackCluster.tasksetAvailable();
    progress.printf("cluster bench: %s: %d worker(s), per-replica batch %d, expert shards %d, pinned %s ...%n",
        c.variant(), c.workers(), o.perReplicaBatch(), c.expertShards(), pinned);
    Path dir = Files.createDirectories(workDir.resolve(c.variant()));
    try (LoopbackCluster cluster = LoopbackCluster.start(dir, c.workers(), new LoopbackCluster.Options(1, true, "2g"))) {
      ClusterServer.start(cluster.spec, 1); // the chief's server lives until this JVM ends
      BatchShape shape = new BatchShape(o.perReplicaBatch() * c.workers(), o.inputLength(), o.targetLength());
      TrainStep.Options so = new TrainStep.Options(Adafactor.defaults(), Schedule.rsqrt(0.01, 10), 1.0, XlaMode.OFF, 1e-4,
          0, 1);
      try (TrainStep<TFloat32> step = TrainStep.over(ReplicatedModel.build(c.spec(), shape, TFloat32.class, 1, 1e-4, 0,
              Placement.cluster(cluster.spec, Duration.ofMinutes(5)), false, c.expertShards()), so).initialize();
          Batch batch = new SyntheticBatchSource(c.spec(), shape, TFloat32.class, 1).nextBatch(0)) {
        long[] s = {0};
        Timing.Stats ms = new Timing(o.warmup(), o.steps()).measure(() -> step.run(batch, s[0]++));
        long paramBytes = 0;
        for (ModelVariable<TFloat32> v : step.model().store.variables()) {
          paramBytes += 4 * v.numElements();
        }
        long inputBytes = 4L * shape.batch() * (o.inputLength() + 2L * o.targetLength());
        long measured = receivedBytes(step.runTraced(batch, s[0]++), progress);
        double stepsPerS = 1000 / ms.median();
        BenchResult r = BenchResult.timed(BenchResult.name("cluster", c.variant(), false), ms)
            .withTokensPerStep((double) shape.batch() * o.inputLength())
            .with("workers", c.workers()).with("expert_shards", c.expertShards()).with("steps_per_s", stepsPerS)
            .with("examples_per_s", stepsPerS * shape.batch()).with("bytes_per_step", (double) measured)
            .with("parameters", paramBytes / 4).with("pinned_one_core_per_worker", pinned ? "yes" : "no")
            .with("load_1m", load());
        // by construction (without expert shards): each worker reads every variable and returns every gradient
        return c.expertShards() == 1
            ? r.with("bytes_per_step_model", (double) c.workers() * 2 * paramBytes + inputBytes) : r;
      }
    }
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
