package dev.upcycle.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.graph.Initializer;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.VariableStore;
import dev.upcycle.model.names.CanonicalNames;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;

/**
 * Each optimizer's graph update against {@link OptimizerReference} for several steps on small
 * float64 tensors; tolerance 1e-9 relative (the brief asks for 1e-6).
 */
class OptimizerTest {

  private static final double TOL = 1e-9;

  @Test
  void adafactorUnfactoredDefaultsMatchReference() {
    check(Adafactor.defaults(), List.of(new long[] {3, 5}, new long[] {4}, new long[] {}));
  }

  @Test
  void adafactorFactoredMatchesReference() {
    Adafactor o = Adafactor.defaults().withMinDimSizeToFactor(2);
    check(o, List.of(new long[] {3, 5}, new long[] {5, 3}, new long[] {4, 4}, new long[] {2, 3, 4},
        new long[] {3, 4, 2}, new long[] {6}));
  }

  @Test
  void adafactorWithMomentumAndNoScaleMatchesReference() {
    Adafactor o = new Adafactor(0.8, 0.5, 1e-30, 1e-3, 0.9, false, true, 2);
    check(o, List.of(new long[] {3, 5}, new long[] {2, 3, 4}, new long[] {6}));
  }

  @Test
  void adamwMatchesReference() {
    check(AdamW.defaults(), List.of(new long[] {3, 5}, new long[] {4}, new long[] {2, 2, 3}));
    check(new AdamW(0.8, 0.99, 1e-6, 0.0), List.of(new long[] {3, 5}));
  }

  @Test
  void slotsAreNamedAndShapedAsT5x() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat64> store = new VariableStore<>(tf, TFloat64.class, 1);
      store.get("encoder/layers_1/mlp/expert/wi_0/kernel", new long[] {4, 128, 256}, Initializer.zeros());
      store.get("decoder/layers_0/mlp/wo/kernel", new long[] {256, 128}, Initializer.zeros());
      store.get("encoder/relpos_bias/rel_embedding", new long[] {4, 32}, Initializer.zeros());
      StateStore state = new StateStore(tf);
      List<Operand<TFloat64>> grads = new ArrayList<>();
      store.variables().forEach(v -> grads.add(tf.zerosLike(v.value())));
      Adafactor.defaults().apply(tf, state, store.variables(), grads, tf.constant(1.0), tf.constant(1.0),
          TFloat64.class);
      assertArrayEquals(new long[] {4, 128},
          state.variable("state/param_states/encoder/layers_1/mlp/expert/wi_0/kernel/v_row").shape());
      assertArrayEquals(new long[] {4, 256},
          state.variable("state/param_states/encoder/layers_1/mlp/expert/wi_0/kernel/v_col").shape());
      assertArrayEquals(new long[] {128}, state.variable("state/param_states/decoder/layers_0/mlp/wo/kernel/v_row")
          .shape());
      assertArrayEquals(new long[] {256}, state.variable("state/param_states/decoder/layers_0/mlp/wo/kernel/v_col")
          .shape());
      assertArrayEquals(new long[] {4, 32}, state.variable("state/param_states/encoder/relpos_bias/rel_embedding/v")
          .shape());
      assertEquals(5, state.variables().size());
    }
  }

  private static void check(Optimizer opt, List<long[]> shapes) {
    SplittableRandom rnd = new SplittableRandom(42);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat64> store = new VariableStore<>(tf, TFloat64.class, 1);
      List<Placeholder<TFloat64>> gradIn = new ArrayList<>();
      for (int i = 0; i < shapes.size(); i++) {
        store.get("p" + i + "/kernel", shapes.get(i), Initializer.zeros());
        gradIn.add(tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(shapes.get(i)))));
      }
      Placeholder<TFloat64> lr = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat64> count = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.scalar()));
      StateStore state = new StateStore(tf);
      List<Operand<TFloat64>> grads = new ArrayList<>(gradIn);
      List<Op> updates = opt.apply(tf, state, store.variables(), grads, lr, count, TFloat64.class);
      store.initialize(s);
      state.initialize(s);
      List<double[]> params = new ArrayList<>();
      List<ModelVariable<TFloat64>> vars = store.variables();
      for (int i = 0; i < vars.size(); i++) {
        double[] p = random(rnd, vars.get(i).numElements(), 0.5);
        params.add(p);
        try (TFloat64 t = tensor(shapes.get(i), p)) {
          store.load(s, vars.get(i).name(), t);
        }
      }
      List<OptimizerReference.AdafactorState> afState = new ArrayList<>();
      List<double[][]> adamState = new ArrayList<>();
      for (double[] p : params) {
        afState.add(new OptimizerReference.AdafactorState());
        adamState.add(new double[][] {new double[p.length], new double[p.length]});
      }
      for (int t = 1; t <= 4; t++) {
        double rate = 0.05 / t;
        List<Tensor> feeds = new ArrayList<>();
        Session.Runner r = s.runner();
        for (int i = 0; i < vars.size(); i++) {
          // gradients of different scales per parameter and step
          double[] gr = random(rnd, vars.get(i).numElements(), Math.pow(10, i % 3 - 1) * t);
          TFloat64 gt = tensor(shapes.get(i), gr);
          feeds.add(gt);
          r.feed(gradIn.get(i), gt);
          if (opt instanceof Adafactor a) {
            OptimizerReference.adafactor(a, shapes.get(i), params.get(i), gr, afState.get(i), rate, t);
          } else {
            OptimizerReference.adamw((AdamW) opt, params.get(i), gr, adamState.get(i)[0], adamState.get(i)[1], rate, t);
          }
        }
        try (TFloat64 lt = TFloat64.scalarOf(rate); TFloat64 ct = TFloat64.scalarOf(t)) {
          r.feed(lr, lt).feed(count, ct);
          updates.forEach(r::addTarget);
          r.run();
        }
        feeds.forEach(Tensor::close);
        for (int i = 0; i < vars.size(); i++) {
          assertClose(params.get(i), fetch(s, vars.get(i).value()), "step " + t + " " + vars.get(i).name());
        }
      }
      // slots after the last step
      for (int i = 0; i < vars.size(); i++) {
        String name = vars.get(i).name();
        if (opt instanceof Adafactor) {
          OptimizerReference.AdafactorState st = afState.get(i);
          if (st.vRow != null) {
            assertClose(st.vRow, slot(s, state, name, "v_row"), name + " v_row");
            assertClose(st.vCol, slot(s, state, name, "v_col"), name + " v_col");
            assertTrue(!state.contains(CanonicalNames.slot(name, "v")));
          } else {
            assertClose(st.v, slot(s, state, name, "v"), name + " v");
          }
          if (st.m != null) {
            assertClose(st.m, slot(s, state, name, "m"), name + " m");
          }
        } else {
          assertClose(adamState.get(i)[0], slot(s, state, name, "m"), name + " m");
          assertClose(adamState.get(i)[1], slot(s, state, name, "v"), name + " v");
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static double[] slot(Session s, StateStore state, String param, String slot) {
    return fetch(s, (Operand<TFloat64>) state.variable(CanonicalNames.slot(param, slot)).value());
  }

  private static double[] fetch(Session s, Operand<TFloat64> x) {
    try (Result r = s.runner().fetch(x).run()) {
      TFloat64 t = (TFloat64) r.get(0);
      double[] out = new double[(int) t.size()];
      t.asRawTensor().data().asDoubles().read(out);
      return out;
    }
  }

  private static TFloat64 tensor(long[] shape, double[] v) {
    TFloat64 t = TFloat64.tensorOf(Shape.of(shape));
    t.asRawTensor().data().asDoubles().write(v);
    return t;
  }

  private static double[] random(SplittableRandom rnd, long n, double scale) {
    double[] out = new double[(int) n];
    for (int i = 0; i < out.length; i++) {
      out[i] = (rnd.nextDouble() * 2 - 1) * scale;
    }
    return out;
  }

  static void assertClose(double[] want, double[] got, String what) {
    assertEquals(want.length, got.length, what + " length");
    for (int i = 0; i < want.length; i++) {
      double tol = TOL * Math.max(1e-3, Math.abs(want[i]));
      assertEquals(want[i], got[i], tol, what + " element " + i);
    }
  }
}
