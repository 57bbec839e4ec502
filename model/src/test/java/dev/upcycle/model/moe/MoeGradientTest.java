package dev.upcycle.model.moe;

import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import dev.upcycle.model.testing.GradientChecker;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat64;

/**
 * Finite differences (float64, h = 1e-6, |err| ≤ 1e-6 + 1e-5·|num|) through the routers (combine
 * weights, aux loss, z-loss w.r.t. logits) and the whole MoE layer (w.r.t. tokens, router kernel
 * and stacked expert weights). Random inputs have no ties, so the discrete choices are locally fixed.
 */
class MoeGradientTest {

  static Stream<Arguments> routers() {
    return Stream.of(
        Arguments.of("ec C=1", RouterConfig.expertChoice(1.0)),
        Arguments.of("ec C=2 renorm", RouterConfig.expertChoice(2.0).withRenormalize(true)),
        Arguments.of("top2 C=0.75", RouterConfig.topK(2, 0.75)),
        Arguments.of("top2 C=1.25 BPR renorm", RouterConfig.topK(2, 1.25).withBatchPrioritized(true)
            .withRenormalize(true)),
        Arguments.of("top1 C=1", RouterConfig.topK(1, 1.0)),
        Arguments.of("top2 dropless", RouterConfig.topK(2, 1.0).withDropless(true)),
        Arguments.of("top2 dropless renorm", RouterConfig.topK(2, 1.0).withDropless(true).withRenormalize(true)));
  }

  static double[] rand(long seed, int n, double scale) {
    Random r = new Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian() * scale;
    }
    return v;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("routers")
  void routerOutputsDifferentiateWithRespectToLogits(String label, RouterConfig config) {
    GradientChecker.float64((tf, in) -> {
      BuildContext<TFloat64> ctx = BuildContext.create(tf, new VariableStore<>(tf, TFloat64.class, 0), false, null);
      Routing<TFloat64> r = Router.of(config).route(ctx, in.get(0));
      Operand<TFloat64> combine = tf.sum(tf.math.mul(r.combineWeights(), tf.constant(weights(r.capacity()))),
          tf.constant(new int[] {0, 1, 2}));
      return tf.math.add(combine, tf.math.add(r.auxLoss(), r.routerZLoss()));
    }).input("logits", rand(label.hashCode(), 2 * 6 * 4, 1.5), 2, 6, 4).check();
  }

  private static double[][][] weights(int cap) {
    double[][][] w = new double[2][4][cap];
    Random r = new Random(3);
    for (double[][] a : w) {
      for (double[] b : a) {
        for (int i = 0; i < cap; i++) {
          b[i] = 0.5 + r.nextDouble();
        }
      }
    }
    return w;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("routers")
  void moeLayerDifferentiatesWithRespectToTokensRouterAndExperts(String label, RouterConfig config) {
    int e = 4;
    int d = 3;
    int dff = 5;
    boolean gated = label.hashCode() % 2 == 0;
    MoeConfig moe = new MoeConfig(e, config, RouterConfig.topK(1, 1.0), 4096, 0, 0.01, 0.001);
    String[] names = gated
        ? new String[] {"l/router/router_weights/w/kernel", "l/expert/wi_0/kernel", "l/expert/wi_1/kernel",
            "l/expert/wo/kernel"}
        : new String[] {"l/router/router_weights/w/kernel", "l/expert/wi/kernel", "l/expert/wi/bias",
            "l/expert/wo/kernel", "l/expert/wo/bias"};
    GradientChecker<TFloat64> checker = GradientChecker.float64((tf, in) -> {
      VariableStore<TFloat64> store = new VariableStore<>(tf, TFloat64.class, 0);
      for (int i = 0; i < names.length; i++) {
        store.bind(names[i], in.get(i + 1));
      }
      BuildContext<TFloat64> ctx = BuildContext.create(tf, store, false, null);
      MoeLayer.Output<TFloat64> out = MoeLayer.apply(ctx, "l", in.get(0), moe, false, dff,
          gated ? ExpertKind.GATED_GELU : ExpertKind.GELU_WITH_BIAS);
      return tf.math.add(tf.sum(tf.math.square(out.output()), tf.constant(new int[] {0, 1, 2})),
          out.stats().auxLoss());
    }).input("x", rand(1, 2 * 3 * d, 1.0), 2, 3, d).input("router", rand(2, d * e, 1.0), d, e);
    if (gated) {
      checker.input("wi_0", rand(3, e * d * dff, 0.5), e, d, dff).input("wi_1", rand(4, e * d * dff, 0.5), e, d, dff)
          .input("wo", rand(5, e * dff * d, 0.5), e, dff, d);
    } else {
      checker.input("wi", rand(3, e * d * dff, 0.5), e, d, dff).input("bi", rand(6, e * dff, 0.5), e, dff)
          .input("wo", rand(5, e * dff * d, 0.5), e, dff, d).input("bo", rand(7, e * d, 0.5), e, d);
    }
    checker.check();
  }

}
