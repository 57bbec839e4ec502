package dev.upcycle.model.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import dev.upcycle.model.testing.GradientChecker;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;

/**
 * Finite-difference checks (float64, central differences, h = 1e-6, |err| ≤ 1e-6 + 1e-5·|num|)
 * of every layer with respect to its input and its weights (weights bound as plain inputs).
 */
class LayerGradientTest {

  private static final Random RND = new Random(11);

  static double[] rand(int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = RND.nextGaussian() * 0.7;
    }
    return v;
  }

  /** A context whose store serves the given parameter names from the checker's inputs 1..n. */
  static BuildContext<TFloat64> bound(Ops tf, List<Operand<TFloat64>> in, String... names) {
    VariableStore<TFloat64> store = new VariableStore<>(tf, TFloat64.class, 0);
    for (int i = 0; i < names.length; i++) {
      store.bind(names[i], in.get(i + 1));
    }
    return BuildContext.create(tf, store, false, null);
  }

  @Test
  void denseWithBias() {
    GradientChecker.float64((tf, in) -> Dense.apply(bound(tf, in, "p/kernel", "p/bias"), "p", in.get(0), 3, true, null))
        .input("x", rand(2 * 4 * 5), 2, 4, 5).input("kernel", rand(15), 5, 3).input("bias", rand(3), 3).check();
  }

  @Test
  void rmsNorm() {
    GradientChecker.float64((tf, in) -> Norms.rmsNorm(bound(tf, in, "n/scale"), "n", in.get(0)))
        .input("x", rand(3 * 6), 3, 6).input("scale", rand(6), 6).check();
  }

  @Test
  void layerNorm() {
    GradientChecker.float64((tf, in) -> Norms.layerNorm(bound(tf, in, "n/scale", "n/bias"), "n", in.get(0)))
        .input("x", rand(3 * 6), 3, 6).input("scale", rand(6), 6).input("bias", rand(6), 6).check();
  }

  @Test
  void geluTanhMatchesReferenceAndDifferentiates() {
    GradientChecker.float64((tf, in) -> Activations.geluTanh(bound(tf, in), in.get(0)))
        .input("x", new double[] {-3, -1, -0.2, 0, 0.3, 1.5, 4}).check();
    assertEquals(0.8411919906082768, Activations.geluTanh(1.0), 1e-12, "tanh GELU(1) (jax.nn.gelu approximate)");
  }

  @Test
  void gatedGeluMlp() {
    GradientChecker.float64((tf, in) -> Mlp.gatedGelu(bound(tf, in, "m/wi_0/kernel", "m/wi_1/kernel", "m/wo/kernel"),
            "m", in.get(0), 6, 0))
        .input("x", rand(2 * 3 * 4), 2, 3, 4).input("wi_0", rand(24), 4, 6).input("wi_1", rand(24), 4, 6)
        .input("wo", rand(24), 6, 4).check();
  }

  @Test
  void geluMlpWithBias() {
    GradientChecker.float64((tf, in) -> Mlp.geluWithBias(bound(tf, in, "m/wi/kernel", "m/wi/bias", "m/wo/kernel",
            "m/wo/bias"), "m", in.get(0), 5, 0))
        .input("x", rand(2 * 4), 2, 4).input("wi", rand(20), 4, 5).input("bi", rand(5), 5)
        .input("wo", rand(20), 5, 4).input("bo", rand(4), 4).check();
  }

  @Test
  void t5SelfAttentionWithRelativeBiasAndMasks() {
    int heads = 2;
    int dkv = 3;
    int d = 4;
    int len = 5;
    GradientChecker.float64((tf, in) -> {
      BuildContext<TFloat64> ctx = bound(tf, in, "a/query/kernel", "a/key/kernel", "a/value/kernel", "a/out/kernel",
          "enc/relpos_bias/rel_embedding");
      Operand<TFloat64> bias = Masks.combine(ctx,
          // every query keeps at least one key: fully masked rows are flat at -1e10, where float64
          // finite differences cannot resolve a 1e-6 step
          Masks.paddingBias(ctx, Masks.nonPadding(tf, tf.constant(new int[][] {{3, 4, 5, 6, 7}, {3, 4, 5, 6, 7}})),
              Masks.nonPadding(tf, tf.constant(new int[][] {{3, 4, 5, 6, 7}, {3, 4, 5, 0, 0}}))),
          Masks.causalBias(ctx, len),
          RelativePositions.bias(ctx, "enc", heads, len, len, false, 8, 20));
      return Attention.apply(ctx, "a", in.get(0), in.get(0), bias, new Attention.Spec(heads, dkv, false, false, 0));
    }).input("x", rand(2 * len * d), 2, len, d).input("q", rand(d * 6), d, 6).input("k", rand(d * 6), d, 6)
        .input("v", rand(d * 6), d, 6).input("o", rand(6 * d), 6, d).input("rel", rand(heads * 8), heads, 8).check();
  }

  @Test
  void vitCrossAttentionWithBiasesAndScaling() {
    GradientChecker.float64((tf, in) -> {
      BuildContext<TFloat64> ctx = bound(tf, in, "a/query/kernel", "a/query/bias", "a/key/kernel", "a/key/bias",
          "a/value/kernel", "a/value/bias", "a/out/kernel", "a/out/bias");
      return Attention.apply(ctx, "a", in.get(0), in.get(9), null, new Attention.Spec(2, 2, true, true, 0));
    }).input("x", rand(1 * 3 * 4), 1, 3, 4).input("q", rand(16), 4, 4).input("qb", rand(4), 4)
        .input("k", rand(16), 4, 4).input("kb", rand(4), 4).input("v", rand(16), 4, 4).input("vb", rand(4), 4)
        .input("o", rand(16), 4, 4).input("ob", rand(4), 4).input("memory", rand(1 * 5 * 4), 1, 5, 4).check();
  }

  @Test
  void tokenEmbedding() {
    GradientChecker.float64((tf, in) -> {
      VariableStore<TFloat64> store = new VariableStore<>(tf, TFloat64.class, 0).bind("emb", in.get(0));
      return Embeddings.tokens(BuildContext.create(tf, store, false, null), "emb",
          tf.constant(new int[][] {{1, 2, 2}, {0, 3, 1}}), 4, 3);
    }).input("table", rand(12), 4, 3).maxElementsPerInput(12).check();
  }

  @Test
  void patchEmbeddingEqualsAStridedConvolution() {
    GradientChecker.float64((tf, in) -> Embeddings.patches(bound(tf, in, "embedding/kernel", "embedding/bias"),
            in.get(0), 2, 3))
        .input("images", rand(1 * 4 * 4 * 2), 1, 4, 4, 2).input("kernel", rand(2 * 2 * 2 * 3), 2, 2, 2, 3)
        .input("bias", rand(3), 3).check();
  }
}
