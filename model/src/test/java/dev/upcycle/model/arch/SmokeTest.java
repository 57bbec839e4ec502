package dev.upcycle.model.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

class SmokeTest {

  @Test
  void t5MoeForwardBackwardRuns() {
    ModelSpec spec = ModelSpec.sparse(Presets.get("t5-tiny"), MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat32> store = new VariableStore<>(tf, TFloat32.class, 1);
      BuildContext<TFloat32> ctx = BuildContext.create(tf, store, true, null);
      int[][] enc = {{5, 6, 7, 8, 0, 0}, {9, 10, 11, 12, 13, 14}};
      int[][] dec = {{0, 3, 4, 0}, {0, 5, 6, 7}};
      int[][] tgt = {{3, 4, 1, 0}, {5, 6, 7, 1}};
      ModelOutputs<TFloat32> out = T5Model.build(ctx, spec, tf.constant(enc), tf.constant(dec), tf.constant(tgt));
      Losses.TokenLoss<TFloat32> loss = Losses.tokens(ctx, out.logits(), tf.constant(tgt),
          Losses.nonPaddingWeights(ctx, tf.constant(tgt)), 1e-4, 0);
      Operand<TFloat32> total = tf.math.add(tf.math.add(loss.crossEntropy(), loss.zLoss()), out.auxLoss());
      List<Operand<TFloat32>> vars = store.values();
      Output<?>[] xs = vars.stream().map(Operand::asOutput).toArray(Output[]::new);
      Output<?>[] grads = g.addGradients(total.asOutput(), xs);
      store.initialize(s);
      var runner = s.runner().fetch(total);
      for (Output<?> gr : grads) {
        runner.fetch(gr);
      }
      try (var r = runner.run()) {
        float l = ((TFloat32) r.get(0)).getFloat();
        System.out.println("loss " + l + " vars " + vars.size() + " params " + store.parameterCount());
        assertTrue(Float.isFinite(l) && l > 0);
        assertEquals(vars.size() + 1, r.size());
      }
      List<String> names = new ArrayList<>();
      store.variables().forEach(v -> names.add(v.name()));
      System.out.println(names);
    }
  }
}
