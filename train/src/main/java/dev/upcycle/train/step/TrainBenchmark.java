package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.FlopCount;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.train.optim.Adafactor;
import dev.upcycle.train.optim.Schedule;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.TensorFlow;
import org.tensorflow.types.TFloat32;

/**
 * The "train" benchmark (DESIGN.md §9): steps/s, tokens/s and achieved FLOP/s of whole train steps
 * (forward, backward, Adafactor update) for dense and MoE models with XLA on and off, against a
 * matmul ceiling the caller measured in the same run (`bench train` uses the tools module's MatmulCeiling). FLOPs
 * come from {@link FlopCount#trainStep}; tokens are encoder tokens (batch × input length; ViT:
 * batch × patches). Each result also reports the graph build time and the first step's time
 * (graph optimisation and, with XLA, compilation), which the medians exclude. Prints one JSON
 * document; progress goes to the given stream.
 */
public final class TrainBenchmark {

  private TrainBenchmark() {}

  /**
   * One measured configuration.
   *
   * @param part model name, e.g. {@code t5-small}
   * @param variant {@code dense} or {@code moe-e8}
   */
  public record Case(String part, String variant, ModelSpec spec, BatchShape shape, boolean xla) {
    public Case {
      checkNotNull(spec, "spec");
      checkNotNull(shape, "shape");
    }

    public String name() {
      return part + "/" + variant + "/" + (xla ? "xla" : "noxla");
    }
  }

  /**
   * @param warmupSteps steps run before timing (the first includes graph optimisation / XLA compile)
   * @param measuredSteps timed steps
   */
  public record Options(int warmupSteps, int measuredSteps) {
    public Options {
      checkArgument(warmupSteps >= 1, "warmupSteps must be >= 1, got %s", warmupSteps);
      checkArgument(measuredSteps >= 1, "measuredSteps must be >= 1, got %s", measuredSteps);
    }

    public static Options defaults() {
      return new Options(2, 3);
    }
  }

  /**
   * t5-small (8 × 128 inputs, 32 targets) and vit-tiny (16 images of 32², 64 patches), each dense
   * and MoE with 8 experts in every other layer (paper routers), XLA on and off.
   */
  public static List<Case> defaultCases() {
    List<Case> out = new ArrayList<>();
    ModelSpec t5 = ModelSpec.dense(Presets.get("t5-small"));
    ModelSpec t5Moe = ModelSpec.sparse(t5.arch(), MoeConfig.paperT5(8), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
    ModelSpec vit = ModelSpec.dense(Presets.get("vit-tiny"));
    ModelSpec vitMoe = ModelSpec.sparse(vit.arch(), MoeConfig.paperVit(8), SparseLayout.EVERY_OTHER, SparseLayout.DENSE);
    BatchShape t5Shape = new BatchShape(8, 128, 32);
    BatchShape vitShape = new BatchShape(16, 1, 1);
    for (boolean xla : new boolean[] {true, false}) {
      out.add(new Case("t5-small", "dense", t5, t5Shape, xla));
      out.add(new Case("t5-small", "moe-e8", t5Moe, t5Shape, xla));
      out.add(new Case("vit-tiny", "dense", vit, vitShape, xla));
      out.add(new Case("vit-tiny", "moe-e8", vitMoe, vitShape, xla));
    }
    return out;
  }

  /** Runs every case and returns the JSON document. */
  public static ObjectNode run(List<Case> cases, Options options, double ceilingGflops, PrintStream progress) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode doc = json.createObjectNode();
    doc.put("bench", "train");
    ObjectNode machine = doc.putObject("machine");
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("java", System.getProperty("java.version"));
    machine.put("tensorflow", TensorFlow.version());
    machine.put("device", "cpu");
    machine.put("xla_cpu_jit_flag", SessionConfigs.cpuJitEnabled());
    checkArgument(ceilingGflops > 0, "ceilingGflops must be > 0, got %s", ceilingGflops);
    double ceiling = ceilingGflops;
    doc.put("ceiling_gflops", round(ceiling));
    var results = doc.putArray("results");
    Map<String, Double> msByName = new LinkedHashMap<>();
    Map<String, Double> flopsByName = new LinkedHashMap<>();
    for (Case c : cases) {
      progress.println("benchmarking " + c.name() + " ...");
      double[] all = time(c, options);
      double[] secs = Arrays.copyOfRange(all, 2, all.length);
      double med = median(secs);
      double flops = FlopCount.trainStep(c.spec(), c.shape().batch(), c.shape().inputLength(),
          c.shape().targetLength());
      long tokens = c.spec().arch() instanceof dev.upcycle.model.VitConfig v ? (long) c.shape().batch()
          * v.sequenceLength() : c.shape().tokens();
      ObjectNode r = results.addObject();
      r.put("name", c.name());
      ObjectNode ms = r.putObject("ms_per_step");
      ms.put("median", round(med * 1000));
      ms.put("min", round(Arrays.stream(secs).min().orElseThrow() * 1000));
      ms.put("max", round(Arrays.stream(secs).max().orElseThrow() * 1000));
      r.put("steps_per_s", round(1 / med));
      r.put("build_s", round(all[0]));
      r.put("first_step_s", round(all[1]));
      r.put("tokens_per_s", Math.round(tokens / med));
      r.put("gflops", round(flops / med / 1e9));
      r.put("fraction_of_ceiling", round(flops / med / 1e9 / ceiling));
      msByName.put(c.name(), med);
      flopsByName.put(c.name(), flops);
      progress.printf(Locale.ROOT, "  %s: %.1f ms/step, %.1f GFLOP/s%n", c.name(), med * 1000, flops / med / 1e9);
    }
    ObjectNode ratios = doc.putObject("ratios");
    List<Double> xlaRatios = new ArrayList<>();
    for (Case c : cases) {
      String key = c.part().replace('-', '_');
      String base = c.part() + "/dense/" + (c.xla() ? "xla" : "noxla");
      if (!c.variant().equals("dense") && msByName.containsKey(base)) {
        String mode = c.xla() ? "" : "_noxla";
        double ratio = msByName.get(c.name()) / msByName.get(base);
        ratios.put(key + "_moe_over_dense" + mode, round(ratio));
        ratios.put(key + "_moe_over_dense_flop_adjusted" + mode,
            round(ratio / (flopsByName.get(c.name()) / flopsByName.get(base))));
      }
      String noXla = c.part() + "/" + c.variant() + "/noxla";
      if (c.xla() && msByName.containsKey(noXla)) {
        double ratio = msByName.get(c.name()) / msByName.get(noXla);
        ratios.put(key + "_" + c.variant().replace('-', '_') + "_xla_over_noxla", round(ratio));
        xlaRatios.add(ratio);
      }
    }
    if (!xlaRatios.isEmpty()) {
      ratios.put("xla_over_noxla", round(Math.exp(xlaRatios.stream().mapToDouble(Math::log).average().orElse(0))));
    }
    return doc;
  }

  /** [graph build s, first step s (graph optimisation, XLA compile), measured step s...]. */
  private static double[] time(Case c, Options o) {
    SyntheticBatchSource data = new SyntheticBatchSource(c.spec(), c.shape(), TFloat32.class, 1);
    TrainStep.Options step = new TrainStep.Options(Adafactor.defaults(), Schedule.rsqrt(1.0, 10_000), 0, c.xla(),
        1e-4, 0, 1);
    double[] out = new double[2 + o.measuredSteps()];
    long t0 = System.nanoTime();
    try (TrainStep<TFloat32> t = TrainStep.build(c.spec(), c.shape(), TFloat32.class, step).initialize()) {
      out[0] = (System.nanoTime() - t0) / 1e9;
      for (int i = 0; i < o.warmupSteps(); i++) {
        try (Batch b = data.nextBatch(i)) {
          long t1 = System.nanoTime();
          t.run(b, i);
          if (i == 0) {
            out[1] = (System.nanoTime() - t1) / 1e9;
          }
        }
      }
      for (int i = 0; i < o.measuredSteps(); i++) {
        try (Batch b = data.nextBatch(o.warmupSteps() + i)) {
          long t1 = System.nanoTime();
          t.run(b, i);
          out[2 + i] = (System.nanoTime() - t1) / 1e9;
        }
      }
      return out;
    }
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
