package dev.upcycle.model.layers;

import dev.upcycle.model.graph.BuildContext;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** Activation functions built from primitives (this runtime has no Gelu op). */
public final class Activations {

  private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

  private Activations() {}

  /** The tanh GELU T5 and JAX use: {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. */
  public static <T extends TFloating> Operand<T> geluTanh(BuildContext<T> ctx, Operand<T> x) {
    Ops tf = ctx.tf();
    Operand<T> cube = tf.math.mul(tf.math.square(x), x);
    Operand<T> inner = tf.math.mul(ctx.constant(SQRT_2_OVER_PI),
        tf.math.add(x, tf.math.mul(ctx.constant(0.044715), cube)));
    Operand<T> gate = tf.math.add(ctx.constant(1.0), tf.math.tanh(inner));
    return tf.math.mul(tf.math.mul(ctx.constant(0.5), x), gate);
  }

  /** Plain-Java reference of {@link #geluTanh}. */
  public static double geluTanh(double x) {
    return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
  }
}
