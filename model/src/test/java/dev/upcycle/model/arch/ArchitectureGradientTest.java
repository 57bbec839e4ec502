package dev.upcycle.model.arch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.moe.Fetch;
import dev.upcycle.model.testing.Tensors;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat64;

/**
 * Whole-model gradients in float64 against central differences of the total loss (cross-entropy +
 * z-loss + MoE losses): for every variable, 3 random elements are perturbed by ±1e-6 through the
 * variable store. Tolerance |analytic − numeric| ≤ 1e-6 + 1e-4·|numeric|.
 *
 * <p>MoE language models use batches of one unpadded row: the router z-loss averages over padded
 * tokens too (as T5X does), and a padded query's attention row is entirely at -1e10, where a 1e-6
 * step is below float64 resolution, so finite differences there measure rounding, not the model.
 */
class ArchitectureGradientTest {

  static final T5Config T5 = new T5Config(8, 12, 2, 4, 2, 2, 24, 8, 20, 0.0);
  static final VitConfig VIT = new VitConfig(4, 2, 1, 3, 8, 12, 2, 2, VitConfig.Pooling.CLS, 0.0);
  static final LmConfig LM = new LmConfig(8, 12, 2, 4, 2, 24, 8, 20, 0.0);
  static final MoeConfig MOE = new MoeConfig(3, RouterConfig.expertChoice(2.0), RouterConfig.topK(2, 1.5)
      .withBatchPrioritized(true), 4096, 0, 0.01, 0.001);

  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of("t5 dense", ModelSpec.dense(T5), new BatchShape(2, 5, 4)),
        Arguments.of("t5 moe", ModelSpec.sparse(T5, MOE, SparseLayout.EVERY_OTHER, SparseLayout.layers(0, 1)),
            new BatchShape(1, 6, 4)),
        Arguments.of("vit dense", ModelSpec.dense(VIT), new BatchShape(2, 1, 1)),
        Arguments.of("vit moe renorm", ModelSpec.sparse(VIT, MOE.withRouters(RouterConfig.expertChoice(2.0)
            .withRenormalize(true), MOE.decoderRouter()), SparseLayout.lastN(1), SparseLayout.DENSE),
            new BatchShape(2, 1, 1)),
        Arguments.of("lm moe", ModelSpec.sparse(LM, MOE, SparseLayout.EVERY_OTHER, SparseLayout.DENSE),
            new BatchShape(1, 8, 8)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void gradientsMatchFiniteDifferences(String label, ModelSpec spec, BatchShape shape) {
    double h = 1e-6;
    Random rnd = new Random(label.hashCode());
    try (ModelGraph<TFloat64> m = ModelGraph.build(spec, shape, TFloat64.class, false, 3, true, false).initialize();
        SyntheticBatch batch = new SyntheticBatch(spec, m.inputs, shape, 5)) {
      var runner = batch.feed(m.session.runner());
      for (var g : m.gradients) {
        runner.fetch(g);
      }
      double[][] analytic = new double[m.gradients.length][];
      try (var r = runner.run()) {
        for (int i = 0; i < m.gradients.length; i++) {
          analytic[i] = Fetch.doubles(r.get(i));
        }
      }
      int checked = 0;
      for (int v = 0; v < m.store.variables().size(); v++) {
        ModelVariable<TFloat64> var = m.store.variables().get(v);
        double[] base;
        try (Tensor t = m.store.fetch(m.session, var.name())) {
          base = Tensors.toDoubles(t);
        }
        for (int trial = 0; trial < 3; trial++) {
          int i = rnd.nextInt(base.length);
          double plus = lossWith(m, batch, var, base, i, h);
          double minus = lossWith(m, batch, var, base, i, -h);
          double numeric = (plus - minus) / (2 * h);
          double err = Math.abs(analytic[v][i] - numeric);
          assertTrue(err <= 1e-6 + 1e-4 * Math.abs(numeric), label + ": d loss / d " + var.name() + "[" + i
              + "]: analytic " + analytic[v][i] + ", numeric " + numeric);
          checked++;
        }
        load(m, var, base);
      }
      assertTrue(checked >= 3 * 10, "checked " + checked + " elements");
    }
  }

  private static double lossWith(ModelGraph<TFloat64> m, SyntheticBatch batch, ModelVariable<TFloat64> var,
      double[] base, int index, double delta) {
    double[] v = base.clone();
    v[index] += delta;
    load(m, var, v);
    try (var r = batch.feed(m.session.runner()).fetch(m.totalLoss).run()) {
      return Fetch.doubles(r.get(0))[0];
    }
  }

  private static void load(ModelGraph<TFloat64> m, ModelVariable<TFloat64> var, double[] values) {
    try (TFloat64 t = Tensors.of(values, var.shape())) {
      m.store.load(m.session, var.name(), t);
    }
  }

}
