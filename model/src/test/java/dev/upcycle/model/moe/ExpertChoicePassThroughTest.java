package dev.upcycle.model.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import dev.upcycle.model.layers.Mlp;
import dev.upcycle.model.testing.Tensors;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;

/**
 * DESIGN.md §5 with too little capacity for every token: experts are copies of one dense MLP and
 * combine weights are renormalised, so a token that some expert took gets exactly the dense MLP's
 * output, and a token no expert took gets 0 (the block's residual passes it through).
 */
class ExpertChoicePassThroughTest {

  @Test
  void routedTokensMatchTheDenseMlpAndUnroutedTokensGetZero() {
    int e = 4;
    int d = 6;
    int dff = 8;
    MoeConfig moe = new MoeConfig(e, RouterConfig.expertChoice(0.5).withRenormalize(true), RouterConfig.topK(1, 1),
        4096, 0, 0, 0);
    double[] x = new double[2 * 10 * d];
    Random r = new Random(4);
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextGaussian();
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat64> store = new VariableStore<>(tf, TFloat64.class, 1);
      BuildContext<TFloat64> ctx = BuildContext.create(tf, store, false, null);
      Operand<TFloat64> input = tf.constant(org.tensorflow.ndarray.Shape.of(2, 10, d),
          org.tensorflow.ndarray.buffer.DataBuffers.of(x, true, false));
      Operand<TFloat64> dense = Mlp.gatedGelu(ctx, "l/mlp", input, dff, 0);
      MoeLayer.Output<TFloat64> out = MoeLayer.apply(ctx, "l/mlp", input, moe, false, dff,
          ExpertKind.GATED_GELU);
      store.initialize(s);
      for (String name : new String[] {"wi_0", "wi_1", "wo"}) {
        double[] w;
        try (Tensor t = store.fetch(s, "l/mlp/" + name + "/kernel")) {
          w = Tensors.toDoubles(t);
        }
        double[] tiled = new double[w.length * e];
        for (int k = 0; k < e; k++) {
          System.arraycopy(w, 0, tiled, k * w.length, w.length);
        }
        try (TFloat64 t = Tensors.of(tiled, store.variable("l/mlp/expert/" + name + "/kernel").shape())) {
          store.load(s, "l/mlp/expert/" + name + "/kernel", t);
        }
      }
      try (var res = s.runner().fetch(dense).fetch(out.output()).fetch(out.routing().tokenIndex()).run()) {
        double[] want = Fetch.doubles(res.get(0));
        double[] got = Fetch.doubles(res.get(1));
        int[] picked = Fetch.ints(res.get(2));
        boolean[] routed = new boolean[20];
        int cap = out.routing().capacity();
        assertEquals(2, cap, "one group of 20 tokens: rint(0.5 · 20 / 4) = rint(2.5) = 2");
        for (int i = 0; i < picked.length; i++) {
          routed[picked[i]] = true;
        }
        int routedCount = 0;
        for (int t = 0; t < 20; t++) {
          for (int j = 0; j < d; j++) {
            double expected = routed[t] ? want[t * d + j] : 0.0;
            assertEquals(expected, got[t * d + j], 1e-12, "token " + t + (routed[t] ? " (routed)" : " (unrouted)"));
          }
          routedCount += routed[t] ? 1 : 0;
        }
        assertTrue(routedCount > 0 && routedCount < 20, "some tokens routed, some not: " + routedCount);
      }
    }
  }

  /** The config refuses it first; the message says why. */
  @Test
  void expertChoiceInACausalStackIsRefused() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      BuildContext<TFloat64> ctx = BuildContext.create(tf, new VariableStore<>(tf, TFloat64.class, 1), false, null);
      MoeConfig moe = MoeConfig.paperT5(2);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MoeLayer.apply(ctx, "dec/mlp",
          tf.constant(new double[1][4][3]), moe.withRouters(moe.encoderRouter(), moe.encoderRouter().withCapacityFactor(1)
              .withRenormalize(false)), true, 4, ExpertKind.GATED_GELU));
      assertTrue(e.getMessage().contains("causal") && e.getMessage().contains("top-K"), e.getMessage());
    }
  }
}
