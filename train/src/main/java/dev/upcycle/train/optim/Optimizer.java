package dev.upcycle.train.optim;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.graph.ModelVariable;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * An optimizer built from plain graph ops on resource variables. {@link #update} adds the ops that
 * update one parameter (and its slots, created in the {@link StateStore}); {@link #apply} does it for
 * every parameter of a model.
 */
public interface Optimizer {

  /** A short name: "adafactor", "adamw". */
  String name();

  /**
   * Builds the update of one parameter and returns the assign ops. The update is written through
   * {@link ModelVariable#assign} and slots are made with {@link StateStore#slot}, so a parameter
   * stored in parts (expert parallelism) gets the same update, its slots stored in parts with it.
   *
   * @param param the parameter: canonical name (slots are {@code state/param_states/<param>/...}),
   *     static shape, and its value (the read the gradient was taken against)
   * @param grad the (clipped) gradient, same shape as the parameter
   * @param lr the scheduled learning rate (scalar)
   * @param count the 1-based number of this update: {@code state/step + 1} (scalar, compute dtype)
   */
  <T extends TFloating> List<Op> update(Ops tf, StateStore state, ModelVariable<T> param, Operand<T> grad,
      Operand<T> lr, Operand<T> count, Class<T> dtype);

  /** Updates every parameter; {@code grads} are in the order of {@code params}. */
  default <T extends TFloating> List<Op> apply(Ops tf, StateStore state, List<ModelVariable<T>> params,
      List<Operand<T>> grads, Operand<T> lr, Operand<T> count, Class<T> dtype) {
    checkArgument(params.size() == grads.size(), "%s parameters but %s gradients", params.size(), grads.size());
    List<Op> ops = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      ops.addAll(update(tf, state, params.get(i), grads.get(i), lr, count, dtype));
    }
    return ops;
  }

  /** A constant of the compute dtype. */
  static <T extends TFloating> Operand<T> constant(Ops tf, double v, Class<T> dtype) {
    return tf.dtypes.cast(tf.constant(v), dtype);
  }
}
