package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.FlopCount;
import dev.upcycle.model.graph.ComputeDevice;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.train.optim.Adafactor;
import dev.upcycle.train.optim.Schedule;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.SyntheticBatchSource;
import dev.upcycle.train.step.TrainStep;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.tensorflow.types.TFloat32;

/**
 * The "train" benchmark (DESIGN.md §9): steps/s, tokens/s and achieved FLOP/s of whole train steps
 * (forward, backward, Adafactor update) for dense and MoE models in each XLA mode ({@link XlaMode}:
 * off, auto-clustering, the step as one module) and precision, against a matmul ceiling the caller
 * measured in the same run ({@link MatmulCeiling}). FLOPs
 * come from {@link FlopCount#trainStep}; tokens are encoder tokens (batch × input length; ViT:
 * batch × patches). Each result also reports the graph build time and the first step's time
 * (graph optimisation and, with XLA, compilation), which the medians exclude. The modes and
 * precisions of one model are timed round-robin ({@link #run}; each result names the cases it was
 * timed with in {@code timed_round_robin_with}). Returns one {@link BenchReport}; progress goes to
 * the given stream.
 */
public final class TrainBenchmark {

  private TrainBenchmark() {}

  /**
   * One measured configuration.
   *
   * @param part model name, e.g. {@code t5-small}
   * @param variant {@code dense} or {@code moe-e8}
   * @param xla the XLA mode
   * @param precision float32 or bfloat16 matmuls
   */
  public record Case(String part, String variant, ModelSpec spec, BatchShape shape, XlaMode xla, Precision precision) {
    public Case {
      checkNotNull(spec, "spec");
      checkNotNull(shape, "shape");
      checkNotNull(xla, "xla");
      checkNotNull(precision, "precision");
    }

    /** {@code part/variant/mode}: mode {@code noxla}, {@code xla} (auto) or {@code module}, + {@code -bf16}. */
    public String name() {
      return part + "/" + variant + "/" + modeLabel(xla, precision);
    }

    /** This case in another mode. */
    public Case with(XlaMode mode, Precision p) {
      return new Case(part, variant, spec, shape, mode, p);
    }
  }

  /** The label of a mode in result names and ratio keys. */
  public static String modeLabel(XlaMode xla, Precision precision) {
    String m = switch (xla) {
      case OFF -> "noxla";
      case AUTO -> "xla";
      case MODULE -> "module";
    };
    return precision == Precision.FLOAT32 ? m : m + "-bf16";
  }

  /**
   * @param warmupSteps steps run before timing (the first includes graph optimisation / XLA compile)
   * @param measuredSteps timed steps
   * @param device where the steps compute
   */
  public record Options(int warmupSteps, int measuredSteps, ComputeDevice device) {
    public Options {
      checkArgument(warmupSteps >= 1, "warmupSteps must be >= 1, got %s", warmupSteps);
      checkArgument(measuredSteps >= 1, "measuredSteps must be >= 1, got %s", measuredSteps);
      checkNotNull(device, "device");
    }

    /** On the device {@link ComputeDevice#AUTO} picks. */
    public Options(int warmupSteps, int measuredSteps) {
      this(warmupSteps, measuredSteps, ComputeDevice.AUTO);
    }

    public static Options defaults() {
      return new Options(2, 3);
    }
  }

  /**
   * t5-small (8 × 128 inputs, 32 targets) and vit-tiny (16 images of 32², 64 patches), each dense
   * and MoE with 8 experts in every other layer (paper routers), in every XLA mode, float32.
   */
  public static List<Case> defaultCases() {
    return inModes(baseCases(), List.of(XlaMode.MODULE, XlaMode.AUTO, XlaMode.OFF), List.of(Precision.FLOAT32));
  }

  /**
   * The GPU case (scripts/gpu-check.sh): t5-base, dense and MoE with Expert Choice E 8 C 2 in every
   * other layer of both stacks, 32 × 512 inputs, 128 targets, in the given modes.
   */
  public static List<Case> t5BaseCases() {
    ModelSpec base = ModelSpec.dense(Presets.get("t5-base"));
    RouterConfig ec = RouterConfig.expertChoice(2.0);
    ModelSpec moe = ModelSpec.sparse(base.arch(), MoeConfig.paperT5(8).withRouters(ec, ec), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
    BatchShape shape = new BatchShape(32, 512, 128);
    return List.of(new Case("t5-base", "dense", base, shape, XlaMode.OFF, Precision.FLOAT32),
        new Case("t5-base", "moe-ec-e8-c2", moe, shape, XlaMode.OFF, Precision.FLOAT32));
  }

  /** Each case in each mode and precision (modes outermost, as a run's output reads best). */
  public static List<Case> inModes(List<Case> cases, List<XlaMode> modes, List<Precision> precisions) {
    List<Case> out = new ArrayList<>();
    for (Precision p : precisions) {
      for (XlaMode m : modes) {
        for (Case c : cases) {
          out.add(c.with(m, p));
        }
      }
    }
    return out;
  }

  private static List<Case> baseCases() {
    List<Case> out = new ArrayList<>();
    ModelSpec t5 = ModelSpec.dense(Presets.get("t5-small"));
    ModelSpec t5Moe = ModelSpec.sparse(t5.arch(), MoeConfig.paperT5(8), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
    ModelSpec vit = ModelSpec.dense(Presets.get("vit-tiny"));
    ModelSpec vitMoe = ModelSpec.sparse(vit.arch(), MoeConfig.paperVit(8), SparseLayout.EVERY_OTHER, SparseLayout.DENSE);
    BatchShape t5Shape = new BatchShape(8, 128, 32);
    BatchShape vitShape = new BatchShape(16, 1, 1);
    XlaMode m = XlaMode.OFF;
    Precision p = Precision.FLOAT32;
    out.add(new Case("t5-small", "dense", t5, t5Shape, m, p));
    out.add(new Case("t5-small", "moe-e8", t5Moe, t5Shape, m, p));
    out.add(new Case("vit-tiny", "dense", vit, vitShape, m, p));
    out.add(new Case("vit-tiny", "moe-e8", vitMoe, vitShape, m, p));
    return out;
  }

  /**
   * Runs every case and returns the report. The modes and precisions of one model (same part and
   * variant) are built together and timed round-robin, one step of each in turn (the first of each
   * round moving on by one), so a change of machine load hits them alike and their ratios are
   * same-run ratios; models are timed one after another.
   */
  public static BenchReport run(List<Case> cases, Options options, double ceilingGflops, PrintStream progress) {
    checkArgument(ceilingGflops > 0, "ceilingGflops must be > 0, got %s", ceilingGflops);
    MachineInfo machine = MachineInfo.detect();
    Map<String, double[]> timings = new LinkedHashMap<>();
    for (List<Case> group : byModel(cases)) {
      timings.putAll(timeRoundRobin(group, options, progress));
    }
    List<BenchResult> results = new ArrayList<>();
    Map<String, Double> msByName = new LinkedHashMap<>();
    Map<String, Double> flopsByName = new LinkedHashMap<>();
    for (Case c : cases) {
      double[] all = timings.get(c.name());
      Timing.Stats ms = Timing.Stats.of(Arrays.stream(all, 2, all.length).map(sec -> sec * 1000).toArray());
      double flops = FlopCount.trainStep(c.spec(), c.shape().batch(), c.shape().inputLength(),
          c.shape().targetLength());
      long tokens = c.spec().arch() instanceof VitConfig v ? (long) c.shape().batch() * v.sequenceLength()
          : c.shape().tokens();
      results.add(BenchResult.timed(c.name(), ms).withTokensPerStep(tokens).withFlopsPerStep(flops, ceilingGflops)
          .with("steps_per_s", 1000 / ms.median())
          .with("build_s", all[0])
          .with("first_step_s", all[1])
          .with("timed_round_robin_with", roundRobinPeers(cases, c)));
      msByName.put(c.name(), ms.median());
      flopsByName.put(c.name(), flops);
      progress.printf(Locale.ROOT, "  %s: %.1f ms/step, %.1f GFLOP/s%n", c.name(), ms.median(),
          flops / (ms.median() / 1000) / 1e9);
    }
    Map<String, Double> ratios = new LinkedHashMap<>();
    Map<String, List<Double>> overOff = new LinkedHashMap<>();
    for (Case c : cases) {
      String key = c.part().replace('-', '_');
      String label = modeLabel(c.xla(), c.precision());
      String suffix = "_" + label.replace('-', '_');
      String base = c.part() + "/dense/" + label;
      if (!c.variant().equals("dense") && msByName.containsKey(base)) {
        double ratio = msByName.get(c.name()) / msByName.get(base);
        ratios.put(key + "_moe_over_dense" + suffix, ratio);
        ratios.put(key + "_moe_over_dense_flop_adjusted" + suffix,
            ratio / (flopsByName.get(c.name()) / flopsByName.get(base)));
      }
      String off = c.with(XlaMode.OFF, c.precision()).name();
      if (c.xla() != XlaMode.OFF && msByName.containsKey(off)) {
        double ratio = msByName.get(c.name()) / msByName.get(off);
        String kind = label.replace('-', '_') + "_over_" + modeLabel(XlaMode.OFF, c.precision()).replace('-', '_');
        ratios.put(key + "_" + c.variant().replace('-', '_') + "_" + kind, ratio);
        overOff.computeIfAbsent(kind, k -> new ArrayList<>()).add(ratio);
      }
      String f32 = c.with(c.xla(), Precision.FLOAT32).name();
      if (c.precision() != Precision.FLOAT32 && msByName.containsKey(f32)) {
        ratios.put(key + "_" + c.variant().replace('-', '_') + "_" + label.replace('-', '_') + "_over_f32",
            msByName.get(c.name()) / msByName.get(f32));
      }
    }
    // geometric means over the cases: xla_over_noxla (auto), module_over_noxla, ...
    overOff.forEach((kind, list) -> ratios.put(kind, Math.exp(list.stream().mapToDouble(Math::log).average()
        .orElse(0))));
    return new BenchReport("train", machine, ceilingGflops, results, ratios);
  }

  /** The cases grouped by model (part and variant), in order of first appearance. */
  static List<List<Case>> byModel(List<Case> cases) {
    Map<String, List<Case>> groups = new LinkedHashMap<>();
    Set<String> names = new HashSet<>();
    for (Case c : cases) {
      checkArgument(names.add(c.name()), "case %s is listed twice", c.name());
      groups.computeIfAbsent(modelOf(c), k -> new ArrayList<>()).add(c);
    }
    return List.copyOf(groups.values());
  }

  private static String modelOf(Case c) {
    return c.part() + "/" + c.variant();
  }

  /** The other cases {@code c} was timed round-robin with, comma-separated ("" when alone). */
  private static String roundRobinPeers(List<Case> cases, Case c) {
    return cases.stream().filter(x -> modelOf(x).equals(modelOf(c)) && !x.name().equals(c.name()))
        .map(Case::name).collect(Collectors.joining(","));
  }

  /**
   * Builds and warms up every case of one model, then times {@code measuredSteps} rounds of one
   * step of each; per case name: [graph build s, first step s (graph optimisation, XLA compile),
   * measured step s...].
   */
  private static Map<String, double[]> timeRoundRobin(List<Case> group, Options o, PrintStream progress) {
    progress.println("benchmarking " + group.stream().map(Case::name).collect(Collectors.joining(", "))
        + (group.size() > 1 ? " (round-robin)" : "") + " ...");
    List<TrainStep<TFloat32>> steps = new ArrayList<>();
    List<SyntheticBatchSource> data = new ArrayList<>();
    Map<String, double[]> out = new LinkedHashMap<>();
    try {
      for (Case c : group) {
        double[] t = new double[2 + o.measuredSteps()];
        out.put(c.name(), t);
        TrainStep.Options options = new TrainStep.Options(Adafactor.defaults(), Schedule.rsqrt(1.0, 10_000), 0,
            c.xla(), 1e-4, 0, 1, c.precision(), o.device());
        long t0 = System.nanoTime();
        TrainStep<TFloat32> step = TrainStep.build(c.spec(), c.shape(), TFloat32.class, options);
        steps.add(step);
        step.initialize();
        t[0] = (System.nanoTime() - t0) / 1e9;
        SyntheticBatchSource source = new SyntheticBatchSource(c.spec(), c.shape(), TFloat32.class, 1);
        data.add(source);
        for (int i = 0; i < o.warmupSteps(); i++) {
          double s = runOnce(step, source, i);
          if (i == 0) {
            t[1] = s;
          }
        }
        progress.printf(Locale.ROOT, "  %s built in %.1f s, first step %.1f s%n", c.name(), t[0], t[1]);
      }
      for (int r = 0; r < o.measuredSteps(); r++) {
        for (int j = 0; j < group.size(); j++) {
          int k = (r + j) % group.size();
          out.get(group.get(k).name())[2 + r] = runOnce(steps.get(k), data.get(k), o.warmupSteps() + r);
        }
      }
      return out;
    } finally {
      steps.forEach(TrainStep::close);
    }
  }

  /** Runs step number {@code i} on batch {@code i}; seconds. */
  private static double runOnce(TrainStep<TFloat32> step, SyntheticBatchSource data, int i) {
    try (Batch b = data.nextBatch(i)) {
      long t0 = System.nanoTime();
      step.run(b, i);
      return (System.nanoTime() - t0) / 1e9;
    }
  }
}
