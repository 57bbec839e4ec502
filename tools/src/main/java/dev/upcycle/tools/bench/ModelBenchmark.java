package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.FlopCount;
import dev.upcycle.model.arch.Losses;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.arch.SyntheticBatch;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.SessionConfigs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * {@code bench model}: the matmul ceiling, then forward + backward + SGD update of an MLP block
 * (dense vs Expert Choice E 8 C 2 vs Top-2 C 1.25 vs dropless Top-2 (without XLA only: its shapes are
 * dynamic), 4096 tokens, d 512, d_ff 2048)
 * and of a whole t5-small-sized model, dense and MoE, each with XLA off and on, all in one run.
 * All blocks, with and without XLA, and a 2048³ ceiling matmul are built together and timed
 * round-robin (one step of each in turn), so a change of machine load hits them alike and their
 * ratios are same-run ratios; the ceiling is the best of that matmul and the ones timed alone first.
 *
 * <p>FLOPs are what the graph computes: the block's input is an activation whose gradient is
 * computed ({@link BlockStep#BACKWARD}, reported as {@code backward} in each block result) and
 * experts are counted on the rows they multiply ({@link FlopCount#expertRows}). Ratios, per XLA
 * setting ({@code _noxla} / {@code _xla}): {@code mlp_fraction_of_ceiling} (dense block),
 * {@code moe_ec_over_dense_flop_adjusted}, {@code moe_top2_over_dense_flop_adjusted} and
 * {@code moe_top2_dropless_over_dense_flop_adjusted} (MoE time ÷ (dense time × MoE/dense FLOP
 * ratio)), {@code moe_top2_dropless_tokens_over_dense_noxla} (tokens/s ratio),
 * {@code whole_model_dense_fraction_of_ceiling} and {@code whole_model_moe_fraction_of_ceiling};
 * {@code whole_model_<dense|moe>_matmuls_only_fraction_of_ceiling} (the step's matmuls alone,
 * {@link MatmulReplay}: what the step could reach if nothing else took time) and
 * {@code whole_model_<dense|moe>_over_matmuls_only_noxla} (step time ÷ that time);
 * and {@code xla_over_noxla_<variant>} for every block and model.
 */
public final class ModelBenchmark {

  /** The block variants, in timing order. */
  static final List<String> BLOCKS = List.of("dense", "moe_ec_e8_c2", "moe_top2_c1.25", "moe_top2_dropless");

  /** The result name of the ceiling matmul timed among the blocks. */
  static final String ROUND_ROBIN_CEILING = "matmul/f32_2048_round_robin/noxla";

  /** The variants timed with XLA: dropless routing has dynamic shapes, which XLA refuses. */
  static List<String> blocks(boolean xla) {
    return xla ? BLOCKS.subList(0, 3) : BLOCKS;
  }

  /**
   * Sizes; the defaults are the issue's.
   *
   * @param wholeModel also time the t5-small-sized models
   * @param profileSteps traced steps per block and whole model for the per-op profile (0 = no profile)
   * @param precision the matmul precision (every result records it as {@code precision})
   */
  public record Options(int tokens, int d, int dFf, int experts, int modelBatch, int modelInputLength,
      int modelTargetLength, Timing timing, boolean wholeModel, int profileSteps, Precision precision) {
    public Options {
      checkArgument(profileSteps >= 0, "profile steps must be >= 0, got %s", profileSteps);
      checkNotNull(precision, "precision");
    }
  }

  public static Options defaults() {
    return new Options(4096, 512, 2048, 8, 16, 128, 32, new Timing(2, 5), true, 0, Precision.FLOAT32);
  }

  private ModelBenchmark() {}

  /** The block's MoE config ({@code null} for dense). */
  static MoeConfig blockConfig(String variant, int experts) {
    MoeConfig ec = new MoeConfig(experts, RouterConfig.expertChoice(2.0), RouterConfig.topK(2, 1.25), 4096, 0,
        0.01, 0.001);
    RouterConfig top2 = RouterConfig.topK(2, 1.25);
    return switch (variant) {
      case "dense" -> null;
      case "moe_ec_e8_c2" -> ec;
      case "moe_top2_c1.25" -> ec.withRouters(top2, top2);
      case "moe_top2_dropless" -> ec.withRouters(top2.withDropless(true), top2.withDropless(true));
      default -> throw new IllegalArgumentException("unknown block variant '" + variant + "': expected one of " + BLOCKS);
    };
  }

  /** Training FLOPs of a block step, as {@link BlockStep} computes them. */
  static double blockFlops(String variant, Options o) {
    MoeConfig moe = blockConfig(variant, o.experts());
    return moe == null ? FlopCount.denseMlpStep(o.tokens(), o.d(), o.dFf(), true, BlockStep.BACKWARD)
        : FlopCount.moeMlpStep(o.tokens(), o.d(), o.dFf(), true, moe, moe.encoderRouter(), BlockStep.BACKWARD);
  }

  /** Runs the benchmark; {@code progress} gets progress lines and the per-op profiles. */
  public static BenchReport run(Options o, Consumer<String> progress) {
    MachineInfo machine = MachineInfo.detect();
    progress.accept("matmul ceiling");
    List<BenchResult> results = new ArrayList<>();
    MatmulCeiling.Measurement c0 = MatmulCeiling.measure(MatmulCeiling.DEFAULT_SIZE, false, o.timing());
    MatmulCeiling.Measurement c1 = MatmulCeiling.measure(MatmulCeiling.DEFAULT_SIZE, true, o.timing());
    Map<String, Double> ms = new LinkedHashMap<>();
    Map<String, Double> ratios = new LinkedHashMap<>();
    progress.accept("mlp blocks: building " + BLOCKS + " without XLA and " + blocks(true) + " with XLA");
    Map<String, Timing.Stats> stats = timeBlocks(o, progress);
    // the ceiling: the best of the matmul alone and the matmul timed in the blocks' round-robin
    MatmulCeiling.Measurement c2 = new MatmulCeiling.Measurement(MatmulCeiling.DEFAULT_SIZE, false,
        stats.get(ROUND_ROBIN_CEILING), MatmulCeiling.flopsPerRun(MatmulCeiling.DEFAULT_SIZE)
            / (stats.get(ROUND_ROBIN_CEILING).median() / 1e3) / 1e9);
    double ceiling = Math.max(Math.max(c0.gflops(), c1.gflops()), c2.gflops());
    results.add(c0.toResult(ceiling));
    results.add(c1.toResult(ceiling));
    results.add(BenchResult.timed(ROUND_ROBIN_CEILING, c2.msPerRun())
        .withFlopsPerStep(MatmulCeiling.flopsPerRun(MatmulCeiling.DEFAULT_SIZE), ceiling));
    for (boolean xla : new boolean[] {false, true}) {
      String mode = xla ? "_xla" : "_noxla";
      for (String variant : blocks(xla)) {
        String name = BenchResult.name("mlp", variant, xla);
        ms.put(name, stats.get(name).median());
        results.add(BenchResult.timed(name, stats.get(name)).withTokensPerStep(o.tokens())
            .withFlopsPerStep(blockFlops(variant, o), ceiling)
            .with("flops_per_step", blockFlops(variant, o))
            .with("backward", BlockStep.BACKWARD.jsonName())
            .with("precision", o.precision().configName()));
      }
      double dense = ms.get(BenchResult.name("mlp", "dense", xla));
      double denseFlops = blockFlops("dense", o);
      ratios.put("mlp_fraction_of_ceiling" + mode, denseFlops / (dense / 1e3) / 1e9 / ceiling);
      for (String variant : blocks(xla).subList(1, blocks(xla).size())) {
        double t = ms.get(BenchResult.name("mlp", variant, xla));
        String key = variant.replace("_e8_c2", "").replace("_c1.25", "");
        ratios.put(key + "_over_dense_flop_adjusted" + mode, t / (dense * blockFlops(variant, o) / denseFlops));
      }
    }
    ratios.put("moe_top2_dropless_tokens_over_dense_noxla",
        ms.get("mlp/dense/noxla") / ms.get("mlp/moe_top2_dropless/noxla"));
    if (o.wholeModel()) {
      wholeModel(o, ceiling, results, ms, ratios, progress);
    }
    for (String name : List.copyOf(ms.keySet())) {
      if (name.endsWith("/noxla") && ms.containsKey(name.substring(0, name.length() - "/noxla".length()) + "/xla")) {
        String base = name.substring(0, name.length() - "/noxla".length());
        String variant = base.substring(base.indexOf('/') + 1).replace('.', '_');
        ratios.put("xla_over_noxla_" + variant, ms.get(base + "/xla") / ms.get(name));
      }
    }
    return new BenchReport("model", machine, ceiling, results, ratios);
  }

  /**
   * Builds every block, without and with XLA, and the ceiling's matmul, and times them round-robin
   * (one step of each in turn), so load changes hit all alike; profiles each block when asked.
   * Keys: result names.
   */
  private static Map<String, Timing.Stats> timeBlocks(Options o, Consumer<String> progress) {
    List<String> names = new ArrayList<>();
    List<Runnable> steps = new ArrayList<>();
    List<AutoCloseable> open = new ArrayList<>();
    try {
      for (boolean xla : new boolean[] {false, true}) {
        for (String variant : blocks(xla)) {
          BlockStep step = new BlockStep(o.tokens(), o.d(), o.dFf(), blockConfig(variant, o.experts()), xla,
              o.precision());
          open.add(step);
          steps.add(step::run);
          names.add(BenchResult.name("mlp", variant, xla));
        }
      }
      MatmulGraph ceiling = new MatmulGraph(MatmulCeiling.DEFAULT_SIZE, false, MatmulCeiling.SEED);
      open.add(ceiling);
      steps.add(ceiling::runStep);
      names.add(ROUND_ROBIN_CEILING);
      for (int i = 0; i < o.timing().warmup(); i++) {
        steps.forEach(Runnable::run);
      }
      double[][] samples = new double[steps.size()][o.timing().repeats()];
      for (int r = 0; r < o.timing().repeats(); r++) {
        progress.accept("mlp blocks: round " + (r + 1) + " of " + o.timing().repeats());
        for (int b = 0; b < steps.size(); b++) {
          long t0 = System.nanoTime();
          steps.get(b).run();
          samples[b][r] = (System.nanoTime() - t0) / 1e6;
        }
      }
      Map<String, Timing.Stats> stats = new LinkedHashMap<>();
      for (int b = 0; b < steps.size(); b++) {
        stats.put(names.get(b), Timing.Stats.of(samples[b]));
      }
      if (o.profileSteps() > 0) {
        for (int b = 0; b < open.size() - 1; b++) {
          BlockStep s = (BlockStep) open.get(b);
          StepProfile p = StepProfile.trace(() -> s.session().runner().addTarget(s.step()), o.profileSteps());
          progress.accept(p.format("profile " + names.get(b), 15));
        }
      }
      return stats;
    } finally {
      for (AutoCloseable c : open) {
        try {
          c.close();
        } catch (Exception e) {
          throw new IllegalStateException("closing a benchmark graph", e);
        }
      }
    }
  }

  private static void wholeModel(Options o, double ceiling, List<BenchResult> results, Map<String, Double> ms,
      Map<String, Double> ratios, Consumer<String> progress) {
    BatchShape shape = new BatchShape(o.modelBatch(), o.modelInputLength(), o.modelTargetLength());
    ModelSpec dense = ModelSpec.dense(Presets.get("t5-small"));
    ModelSpec moe = ModelSpec.sparse(Presets.get("t5-small"), MoeConfig.paperT5(o.experts()), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
    for (boolean xla : new boolean[] {false, true}) {
      for (ModelSpec spec : new ModelSpec[] {dense, moe}) {
        String variant = spec.isSparse() ? "t5_small_moe_e" + o.experts() : "t5_small_dense";
        progress.accept("whole model " + variant + (xla ? " xla" : " noxla"));
        double flops = FlopCount.trainStep(spec, shape.batch(), shape.inputLength(), shape.targetLength());
        try (ModelGraph<TFloat32> m = ModelGraph.build(spec, shape, TFloat32.class, true, 1, true,
            SessionConfigs.cpu(xla), Losses.DEFAULT_Z_LOSS, 0, o.precision()).initialize();
            SyntheticBatch batch = new SyntheticBatch(spec, m.inputs, shape, 3);
            TInt64 seed = TInt64.scalarOf(1)) {
          List<ModelVariable<TFloat32>> vars = List.copyOf(m.store.variables());
          Op step = SgdStep.build(m.tf, vars, m.gradients, TFloat32.class, 1e-3);
          Supplier<Session.Runner> runner = () -> batch.feed(m.session.runner()).feed(m.stepSeed, seed).addTarget(step);
          Timing.Stats s = o.timing().measure(() -> runner.get().run());
          String name = BenchResult.name("model", variant, xla);
          ms.put(name, s.median());
          results.add(BenchResult.timed(name, s)
              .withTokensPerStep((double) shape.batch() * (shape.inputLength() + shape.targetLength()))
              .withFlopsPerStep(flops, ceiling)
              .with("flops_per_step", flops)
              .with("precision", o.precision().configName()));
          ratios.put("whole_model_" + (spec.isSparse() ? "moe" : "dense") + "_fraction_of_ceiling"
              + (xla ? "_xla" : "_noxla"), flops / (s.median() / 1e3) / 1e9 / ceiling);
          if (o.profileSteps() > 0) {
            progress.accept(StepProfile.trace(runner, o.profileSteps()).format("profile " + name, 25));
          }
          if (!xla) {
            matmulsOnly(o, ceiling, variant, spec.isSparse() ? "moe" : "dense", step, s, results, ratios, progress);
          }
        }
      }
    }
  }

  /**
   * The whole-model step's matmuls alone ({@link MatmulReplay}), timed after the step: their
   * fraction of the ceiling bounds the step's on this machine, and step ÷ matmuls-only says how
   * much the rest of the step (element-wise ops, attention's softmax, the embedding gradient,
   * the update) adds.
   */
  private static void matmulsOnly(Options o, double ceiling, String variant, String kind, Op step,
      Timing.Stats stepStats, List<BenchResult> results, Map<String, Double> ratios, Consumer<String> progress) {
    progress.accept("whole model " + variant + " matmuls only");
    try (MatmulReplay replay = new MatmulReplay(MatmulReplay.specsOf(step.op()), SessionConfigs.cpu(false))) {
      Timing.Stats r = o.timing().measure(replay::run);
      results.add(BenchResult.timed(BenchResult.name("model", variant + "_matmuls_only", false), r)
          .withFlopsPerStep(replay.flops(), ceiling)
          .with("flops_per_step", replay.flops())
          .with("matmuls", replay.specs().size())
          .with("precision", o.precision().configName()));
      ratios.put("whole_model_" + kind + "_matmuls_only_fraction_of_ceiling", replay.flops() / (r.median() / 1e3) / 1e9
          / ceiling);
      ratios.put("whole_model_" + kind + "_over_matmuls_only_noxla", stepStats.median() / r.median());
    }
  }
}
