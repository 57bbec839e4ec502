package dev.upcycle.tools.bench;

import dev.upcycle.model.graph.ModelVariable;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A plain SGD update {@code w -= lr · dL/dw} on resource variables, as one target op: enough to
 * time forward + backward + update (the real optimizers live in the train module).
 */
final class SgdStep {

  private SgdStep() {}

  @SuppressWarnings("unchecked")
  static <T extends TFloating> Op build(Ops tf, List<ModelVariable<T>> vars, Output<?>[] grads, Class<T> dtype,
      double lr) {
    List<Op> updates = new ArrayList<>();
    Operand<T> rate = tf.dtypes.cast(tf.constant(lr), dtype);
    for (int i = 0; i < vars.size(); i++) {
      Operand<T> g = (Operand<T>) grads[i];
      updates.add(tf.assignSubVariableOp(vars.get(i).handle(), tf.math.mul(g, rate)));
    }
    return tf.withControlDependencies(updates).withName("sgd_step").noOp();
  }
}
