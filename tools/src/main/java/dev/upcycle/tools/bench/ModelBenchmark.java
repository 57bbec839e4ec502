package dev.upcycle.tools.bench;

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
import org.tensorflow.op.Op;
import org.tensorflow.types.TFloat32;

/**
 * {@code bench model}: the matmul ceiling, then forward + backward + SGD update of an MLP block
 * (dense vs Expert Choice E 8 C 2 vs Top-2 C 1.25, 4096 tokens, d 512, d_ff 2048) and of a whole
 * t5-small-sized model, dense and MoE, each with XLA on and off, all in one run.
 *
 * <p>Ratios: {@code mlp_fraction_of_ceiling} (dense block, best of XLA on/off),
 * {@code moe_ec_over_dense_flop_adjusted} and {@code moe_top2_over_dense_flop_adjusted} (MoE time
 * ÷ (dense time × MoE/dense FLOP ratio), XLA), {@code xla_over_noxla} (dense block) and
 * {@code whole_model_fraction_of_ceiling} (dense t5-small, best of XLA on/off).
 */
public final class ModelBenchmark {

  /** Sizes and the matmul precision (every result records it as {@code precision}); the defaults are the issue's. */
  public record Options(int tokens, int d, int dFf, int experts, int modelBatch, int modelInputLength,
      int modelTargetLength, Timing timing, Precision precision) {}

  public static Options defaults() {
    return new Options(4096, 512, 2048, 8, 16, 128, 32, new Timing(2, 5), Precision.FLOAT32);
  }

  private ModelBenchmark() {}

  public static BenchReport run(Options o, Consumer<String> progress) {
    MachineInfo machine = MachineInfo.detect();
    progress.accept("matmul ceiling");
    List<BenchResult> results = new ArrayList<>();
    MatmulCeiling.Measurement c0 = MatmulCeiling.measure(MatmulCeiling.DEFAULT_SIZE, false, o.timing());
    MatmulCeiling.Measurement c1 = MatmulCeiling.measure(MatmulCeiling.DEFAULT_SIZE, true, o.timing());
    double ceiling = Math.max(c0.gflops(), c1.gflops());
    results.add(c0.toResult(ceiling));
    results.add(c1.toResult(ceiling));

    MoeConfig ec = new MoeConfig(o.experts(), RouterConfig.expertChoice(2.0), RouterConfig.topK(2, 1.25), 4096, 0,
        0.01, 0.001);
    MoeConfig top2 = ec.withRouters(RouterConfig.topK(2, 1.25), RouterConfig.topK(2, 1.25));
    double denseFlops = 3 * FlopCount.denseMlp(o.tokens(), o.d(), o.dFf(), true);
    double ecFlops = 3 * FlopCount.moeMlp(o.tokens(), o.d(), o.dFf(), true, ec, ec.encoderRouter());
    double top2Flops = 3 * FlopCount.moeMlp(o.tokens(), o.d(), o.dFf(), true, top2, top2.encoderRouter());
    Map<String, Double> ms = new LinkedHashMap<>();
    for (boolean xla : new boolean[] {false, true}) {
      for (String variant : new String[] {"dense", "moe_ec_e8_c2", "moe_top2_c1.25"}) {
        progress.accept("mlp block " + variant + (xla ? " xla" : " noxla"));
        MoeConfig moe = variant.equals("dense") ? null : variant.startsWith("moe_ec") ? ec : top2;
        double flops = moe == null ? denseFlops : moe == ec ? ecFlops : top2Flops;
        try (BlockStep step = new BlockStep(o.tokens(), o.d(), o.dFf(), moe, xla, o.precision())) {
          Timing.Stats s = o.timing().measure(step::run);
          String name = BenchResult.name("mlp", variant, xla);
          ms.put(name, s.median());
          results.add(BenchResult.timed(name, s).withTokensPerStep(o.tokens()).withFlopsPerStep(flops, ceiling)
              .with("precision", o.precision().configName()));
        }
      }
    }
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
            SyntheticBatch batch = new SyntheticBatch(spec, m.inputs, shape, 3)) {
          List<ModelVariable<TFloat32>> vars = List.copyOf(m.store.variables());
          Op step = SgdStep.build(m.tf, vars, m.gradients, TFloat32.class, 1e-3);
          Timing.Stats s = o.timing().measure(() -> batch.feed(m.session.runner()).feed(m.stepSeed,
              org.tensorflow.types.TInt64.scalarOf(1)).addTarget(step).run());
          String name = BenchResult.name("model", variant, xla);
          ms.put(name, s.median());
          results.add(BenchResult.timed(name, s)
              .withTokensPerStep((double) shape.batch() * (shape.inputLength() + shape.targetLength()))
              .withFlopsPerStep(flops, ceiling).with("precision", o.precision().configName()));
        }
      }
    }
    Map<String, Double> ratios = new LinkedHashMap<>();
    double denseBest = Math.min(ms.get("mlp/dense/xla"), ms.get("mlp/dense/noxla"));
    ratios.put("mlp_fraction_of_ceiling", denseFlops / (denseBest / 1e3) / 1e9 / ceiling);
    ratios.put("moe_ec_over_dense_flop_adjusted",
        ms.get("mlp/moe_ec_e8_c2/xla") / (ms.get("mlp/dense/xla") * ecFlops / denseFlops));
    ratios.put("moe_top2_over_dense_flop_adjusted",
        ms.get("mlp/moe_top2_c1.25/xla") / (ms.get("mlp/dense/xla") * top2Flops / denseFlops));
    ratios.put("xla_over_noxla", ms.get("mlp/dense/xla") / ms.get("mlp/dense/noxla"));
    ratios.put("xla_over_noxla_moe_ec", ms.get("mlp/moe_ec_e8_c2/xla") / ms.get("mlp/moe_ec_e8_c2/noxla"));
    ratios.put("xla_over_noxla_whole_model", ms.get("model/t5_small_dense/xla") / ms.get("model/t5_small_dense/noxla"));
    double modelFlops = FlopCount.trainStep(dense, shape.batch(), shape.inputLength(), shape.targetLength());
    double modelBest = Math.min(ms.get("model/t5_small_dense/xla"), ms.get("model/t5_small_dense/noxla"));
    ratios.put("whole_model_fraction_of_ceiling", modelFlops / (modelBest / 1e3) / 1e9 / ceiling);
    return new BenchReport("model", machine, ceiling, results, ratios);
  }
}
