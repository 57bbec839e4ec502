package dev.upcycle.model.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.TFloat32;

/**
 * A module computes what the original ops compute, updates the resource variables it is handed
 * (reads before the update see the old value, as in the graph), and a placeholder the body needs
 * but the caller did not list as a feed is an error naming it.
 */
class XlaModuleTest {

  @Test
  void computesFetchesAndUpdatesVariablesInPlace() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2)));
      VarHandleOp w = tf.withName("w").varHandleOp(TFloat32.class, Shape.of(2), VarHandleOp.sharedName("w"));
      Op init = tf.assignVariableOp(w, tf.constant(new float[] {1, 2}));
      Operand<TFloat32> read = tf.readVariableOp(w, TFloat32.class);
      Operand<TFloat32> y = tf.math.mul(x, read); // [2]
      Operand<TFloat32> sum = tf.reduceSum(y, tf.constant(0));
      // the update waits for the values that read w (as TrainStep's gate makes the optimizer wait)
      Op update = tf.withControlDependencies(List.of(y, sum)).assignAddVariableOp(w, tf.math.mul(x, tf.constant(10f)));
      Op step = tf.withControlDependencies(List.of(update)).noOp();
      XlaModule m = XlaModule.wrap(g, tf, "step", List.of(x), List.of(y, sum, y), List.of(step));
      assertEquals(1, m.resourceCount());
      assertEquals(XlaModule.CALL_OP, m.callNode().type());
      try (Session s = new Session(g); TFloat32 in = TFloat32.vectorOf(3, 4)) {
        s.runner().addTarget(init).run();
        try (Result r = s.runner().feed(x, in).fetch(m.fetch(y)).fetch(m.fetch(sum)).addTarget(m.target()).run()) {
          TFloat32 yv = (TFloat32) r.get(0);
          assertEquals(3f, yv.getFloat(0));
          assertEquals(8f, yv.getFloat(1));
          assertEquals(11f, ((TFloat32) r.get(1)).getFloat());
        }
        try (Result r = s.runner().fetch(read).run()) {
          TFloat32 wv = (TFloat32) r.get(0);
          assertEquals(31f, wv.getFloat(0), "w += 10 x ran inside the module");
          assertEquals(42f, wv.getFloat(1));
        }
      }
    }
  }

  @Test
  void aPlaceholderThatIsNotAFeedIsNamed() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2)));
      Placeholder<TFloat32> forgotten = tf.withName("forgotten").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(2)));
      Operand<TFloat32> y = tf.math.add(x, forgotten);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> XlaModule.wrap(g, tf, "step", List.of(x), List.of(y), List.of()));
      assertTrue(e.getMessage().contains("forgotten"), e.getMessage());
    }
  }
}
