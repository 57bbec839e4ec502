package dev.upcycle.model.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.names.CanonicalNames;
import dev.upcycle.model.testing.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;

/**
 * A from-scratch MoE is a fair baseline only if each expert starts as its own dense MLP would:
 * expert e of a stacked kernel [E, d, d_ff] is drawn with fan-in d (not E·d), so its variance is
 * the dense MLP's 1/d (wi) and 1/d_ff (wo). Checked on the values a freshly initialised model
 * holds, against the fan-in variance and against a dense model of the same architecture.
 *
 * <p>Tolerance: the sample variance of n independent N(0, σ²) draws has standard deviation
 * σ²·√(2/(n−1)); each check allows 5 of those (n ≥ 8192 here, so ≤ 7.8 % of σ²). The old rule
 * (fan-in E·d) gives σ²/E, i.e. a ratio of 1/8 for E = 8, far outside it.
 */
class FromScratchExpertInitTest {

  private static final int EXPERTS = 8;
  private static final double SIGMAS = 5;

  static Stream<Arguments> models() {
    T5Config t5 = new T5Config(64, 128, 4, 16, 2, 2, 64, 8, 20, 0.0);
    VitConfig vit = new VitConfig(8, 4, 1, 3, 64, 128, 4, 2, VitConfig.Pooling.GAP, 0.0);
    return Stream.of(
        Arguments.of("t5 v1.1 (gated)", t5, MoeConfig.paperT5(EXPERTS), List.of("wi_0", "wi_1", "wo"),
            new BatchShape(1, 4, 4)),
        Arguments.of("vit", vit, MoeConfig.paperVit(EXPERTS), List.of("wi", "wo"), new BatchShape(1, 1, 1)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void everyExpertHasTheVarianceOfADenseMlp(String label, ArchitectureConfig arch, MoeConfig moe, List<String> weights,
      BatchShape shape) {
    ModelSpec sparse = ModelSpec.sparse(arch, moe, SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER);
    ModelSpec dense = ModelSpec.dense(arch);
    String layer = "encoder/layers_1";
    try (ModelGraph<TFloat32> moeModel = ModelGraph.build(sparse, shape, TFloat32.class, false, 7, false, false)
            .initialize();
        ModelGraph<TFloat32> denseModel = ModelGraph.build(dense, shape, TFloat32.class, false, 7, false, false)
            .initialize()) {
      for (String w : weights) {
        String expertName = CanonicalNames.expertKernel(layer, w);
        String denseName = CanonicalNames.mlp(layer) + "/" + w + "/kernel";
        long[] expertShape = moeModel.store.variable(expertName).shape();
        long[] denseShape = denseModel.store.variable(denseName).shape();
        assertEquals(EXPERTS, expertShape[0], expertName);
        assertArrayEquals(denseShape, Arrays.copyOfRange(expertShape, 1, expertShape.length), expertName);
        double fanInVariance = 1.0 / denseShape[0]; // fan_in:1.0 of the dense kernel [fan_in, out]
        double[] denseValues = values(denseModel, denseName);
        assertVariance(denseValues, fanInVariance, label + " dense " + denseName);
        double[] all = values(moeModel, expertName);
        int per = denseValues.length;
        for (int e = 0; e < EXPERTS; e++) {
          double[] expert = Arrays.copyOfRange(all, e * per, (e + 1) * per);
          assertVariance(expert, fanInVariance, label + " " + expertName + " expert " + e);
        }
        // Experts are independent draws, not copies of one another.
        double corr = correlation(Arrays.copyOfRange(all, 0, per), Arrays.copyOfRange(all, per, 2 * per));
        assertTrue(Math.abs(corr) < SIGMAS / Math.sqrt(per), label + " " + expertName + ": experts 0 and 1 correlate "
            + corr);
      }
    }
  }

  private static double[] values(ModelGraph<TFloat32> m, String name) {
    try (Tensor t = m.store.fetch(m.session, name)) {
      return Tensors.toDoubles(t);
    }
  }

  /** Mean-zero draws: the sample variance about 0 is within SIGMAS standard errors of {@code want}. */
  private static void assertVariance(double[] v, double want, String what) {
    double sq = 0;
    for (double x : v) {
      sq += x * x;
    }
    double got = sq / v.length;
    double tolerance = SIGMAS * want * Math.sqrt(2.0 / (v.length - 1));
    assertEquals(want, got, tolerance, what + ": variance " + got + ", want " + want + " (ratio " + got / want + ")");
  }

  private static double correlation(double[] a, double[] b) {
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    return ab / Math.sqrt(aa * bb);
  }
}
