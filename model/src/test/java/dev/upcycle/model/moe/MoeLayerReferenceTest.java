package dev.upcycle.model.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import dev.upcycle.model.layers.Activations;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;

/**
 * The whole MoE layer against plain Java (float64): the routing of {@link RoutingReference} on
 * x·W_r, then {@code out[t] = Σ over the slots holding t of combine · expert_e(x_t)}, for capacity
 * and dropless routers, one group and several, gated and biased experts, and inference graphs that
 * multiply only the filled slots ({@link BuildContext#withFilledSlotsOnly}), whose experts must
 * then see exactly the reference's filled slots as rows. Tolerance 1e-10.
 */
class MoeLayerReferenceTest {

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("ec C=1, 2 groups", RouterConfig.expertChoice(1.0), 6, true, false),
        Arguments.of("top2 C=0.75 (drops)", RouterConfig.topK(2, 0.75), 12, false, false),
        Arguments.of("top2 C=1.25 BPR", RouterConfig.topK(2, 1.25).withBatchPrioritized(true), 12, true, false),
        Arguments.of("top2 dropless", RouterConfig.topK(2, 1.0).withDropless(true), 12, true, false),
        Arguments.of("top2 dropless, 3 groups", RouterConfig.topK(2, 1.0).withDropless(true), 4, false, false),
        Arguments.of("top2 dropless renorm, 2 groups", RouterConfig.topK(2, 1.0).withDropless(true)
            .withRenormalize(true), 6, true, false),
        Arguments.of("top1 dropless", RouterConfig.topK(1, 1.0).withDropless(true), 12, false, false),
        Arguments.of("filled slots only: top2 C=0.75 (drops)", RouterConfig.topK(2, 0.75), 12, false, true),
        Arguments.of("filled slots only: top2 C=2 BPR, 2 groups", RouterConfig.topK(2, 2.0)
            .withBatchPrioritized(true), 6, true, true),
        Arguments.of("filled slots only: top1 C=1.25 renorm, 3 groups", RouterConfig.topK(1, 1.25)
            .withRenormalize(true), 4, true, true),
        Arguments.of("filled slots only: ec C=1, 2 groups", RouterConfig.expertChoice(1.0), 6, false, true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesPlainJava(String label, RouterConfig config, int groupSize, boolean gated, boolean filledOnly) {
    int e = 4;
    int d = 3;
    int dff = 5;
    int n = 12; // tokens: [2, 6, d]
    double[] x = MoeGradientTest.rand(11, n * d, 1.0);
    double[] router = MoeGradientTest.rand(12, d * e, 1.5);
    double[] wi0 = MoeGradientTest.rand(13, e * d * dff, 0.5);
    double[] wi1 = MoeGradientTest.rand(14, e * d * dff, 0.5);
    double[] wo = MoeGradientTest.rand(15, e * dff * d, 0.5);
    double[] bi = MoeGradientTest.rand(16, e * dff, 0.5);
    double[] bo = MoeGradientTest.rand(17, e * d, 0.5);
    MoeConfig moe = new MoeConfig(e, config, RouterConfig.topK(1, 1.0), groupSize, 0, 0.01, 0.001);
    double[] got;
    long hiddenRows = 0; // rows of the expert matmuls with d_ff outputs (wi_0 and wi_1, or wi)
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat64> store = new VariableStore<>(tf, TFloat64.class, 0);
      store.bind("l/router/router_weights/w/kernel", constant(tf, router, d, e));
      if (gated) {
        store.bind("l/expert/wi_0/kernel", constant(tf, wi0, e, d, dff));
        store.bind("l/expert/wi_1/kernel", constant(tf, wi1, e, d, dff));
      } else {
        store.bind("l/expert/wi/kernel", constant(tf, wi0, e, d, dff));
        store.bind("l/expert/wi/bias", constant(tf, bi, e, dff));
        store.bind("l/expert/wo/bias", constant(tf, bo, e, d));
      }
      store.bind("l/expert/wo/kernel", constant(tf, wo, e, dff, d));
      BuildContext<TFloat64> root = BuildContext.create(tf, store, false, null);
      BuildContext<TFloat64> ctx = filledOnly ? root.withFilledSlotsOnly() : root;
      MoeLayer.Output<TFloat64> out = MoeLayer.apply(ctx, "l", constant(tf, x, 2, n / 2, d), moe, false, dff,
          gated ? ExpertKind.GATED_GELU : ExpertKind.GELU_WITH_BIAS);
      List<GraphOperation> matMuls = new ArrayList<>();
      g.operations().forEachRemaining(op -> {
        if (op.type().equals("MatMul")) {
          matMuls.add((GraphOperation) op);
        }
      });
      Session.Runner runner = s.runner().fetch(out.output());
      matMuls.forEach(op -> runner.fetch(op.output(0)));
      try (var r = runner.run()) {
        got = Fetch.doubles(r.get(0));
        for (int i = 0; i < matMuls.size(); i++) {
          long[] shape = r.get(i + 1).shape().asArray();
          hiddenRows += shape[1] == dff ? shape[0] : 0;
        }
      }
    }
    // plain Java: logits [G, S, E], routing, expert MLPs
    int groups = n / groupSize;
    double[][][] logits = new double[groups][groupSize][e];
    for (int t = 0; t < n; t++) {
      for (int k = 0; k < e; k++) {
        for (int j = 0; j < d; j++) {
          logits[t / groupSize][t % groupSize][k] += x[t * d + j] * router[j * e + k];
        }
      }
    }
    RoutingReference ref = new RoutingReference(logits, config);
    long filledSlots = 0;
    for (boolean[][] group : ref.filled) {
      for (boolean[] expert : group) {
        for (boolean f : expert) {
          filledSlots += f ? 1 : 0;
        }
      }
    }
    boolean skipsEmpty = config.dropless() || (filledOnly && config.type() == RouterType.TOP_K);
    long rows = skipsEmpty ? filledSlots : (long) groups * e * ref.cap;
    assertEquals((gated ? 2 : 1) * rows, hiddenRows, label + ": rows the experts multiply (d_ff outputs)");
    double[] want = new double[n * d];
    for (int g = 0; g < groups; g++) {
      for (int k = 0; k < e; k++) {
        for (int c = 0; c < ref.cap; c++) {
          if (!ref.filled[g][k][c]) {
            continue;
          }
          int t = g * groupSize + ref.token[g][k][c];
          double[] y = expert(x, t, k, d, dff, gated, wi0, wi1, wo, bi, bo);
          for (int j = 0; j < d; j++) {
            want[t * d + j] += ref.combine[g][k][c] * y[j];
          }
        }
      }
    }
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 1e-10, label + ": output [token " + i / d + ", " + i % d + "]");
    }
  }

  @Test
  void onlyInferenceGraphsSkipEmptySlots() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      BuildContext<TFloat64> training = BuildContext.create(tf, new VariableStore<>(tf, TFloat64.class, 0), true, null);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, training::withFilledSlotsOnly);
      assertTrue(e.getMessage().contains("inference graphs"), e.getMessage());
    }
  }

  /** Expert k's MLP on token t: gated gelu(x·wi_0) ⊙ (x·wi_1) · wo, or gelu(x·wi + bi) · wo + bo. */
  private static double[] expert(double[] x, int t, int k, int d, int dff, boolean gated, double[] wi0, double[] wi1,
      double[] wo, double[] bi, double[] bo) {
    double[] h = new double[dff];
    for (int f = 0; f < dff; f++) {
      double a = 0;
      double b = 0;
      for (int j = 0; j < d; j++) {
        a += x[t * d + j] * wi0[(k * d + j) * dff + f];
        b += x[t * d + j] * wi1[(k * d + j) * dff + f];
      }
      h[f] = gated ? Activations.geluTanh(a) * b : Activations.geluTanh(a + bi[k * dff + f]);
    }
    double[] y = new double[d];
    for (int j = 0; j < d; j++) {
      double v = gated ? 0 : bo[k * d + j];
      for (int f = 0; f < dff; f++) {
        v += h[f] * wo[(k * dff + f) * d + j];
      }
      y[j] = v;
    }
    return y;
  }

  private static Operand<TFloat64> constant(Ops tf, double[] v, long... shape) {
    return tf.constant(Shape.of(shape), DataBuffers.of(v, true, false));
  }
}
