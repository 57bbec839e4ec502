package dev.upcycle.model.layers;

import dev.upcycle.model.graph.BuildContext;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** Inverted dropout with stateless random numbers seeded per step and per site. */
public final class Dropout {

  private Dropout() {}

  /** Identity unless training with {@code rate > 0}. */
  public static <T extends TFloating> Operand<T> apply(BuildContext<T> ctx, Operand<T> x, double rate) {
    if (!ctx.training() || rate <= 0) {
      return x;
    }
    Ops tf = ctx.tf();
    // static shapes everywhere except dropless MoE experts, whose row counts are dynamic
    boolean dynamic = x.shape().hasUnknownDimension();
    Operand<T> u = tf.random.statelessRandomUniform(dynamic ? tf.shape(x) : tf.constant(Shapes.of(x)), ctx.nextSeed(),
        ctx.dtype());
    Operand<T> keep = tf.dtypes.cast(tf.math.greaterEqual(u, ctx.constant(rate)), ctx.dtype());
    return tf.math.mul(x, tf.math.mul(keep, ctx.constant(1.0 / (1.0 - rate))));
  }
}
