package dev.upcycle.model.layers;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.family.TFloating;

/** RMSNorm (T5: no mean subtraction, no bias) and LayerNorm (ViT: scale and bias); epsilon 1e-6. */
public final class Norms {

  public static final double EPSILON = 1e-6;

  private Norms() {}

  /** {@code x · rsqrt(mean(x²) + 1e-6) · scale}; variable {@code <prefix>/scale} [d]. */
  public static <T extends TFloating> Operand<T> rmsNorm(BuildContext<T> ctx, String prefix, Operand<T> x) {
    Ops tf = ctx.tf();
    long d = Shapes.dim(x, -1);
    Operand<T> scale = ctx.store().get(prefix + "/scale", new long[] {d}, Initializer.ones());
    Operand<T> meanSq = tf.math.mean(tf.math.square(x), tf.constant(-1), Mean.keepDims(true));
    Operand<T> normed = tf.math.mul(x, tf.math.rsqrt(tf.math.add(meanSq, ctx.constant(EPSILON))));
    return tf.math.mul(normed, scale);
  }

  /** {@code (x - mean) · rsqrt(var + 1e-6) · scale + bias}; variables {@code <prefix>/scale|bias}. */
  public static <T extends TFloating> Operand<T> layerNorm(BuildContext<T> ctx, String prefix, Operand<T> x) {
    Ops tf = ctx.tf();
    long d = Shapes.dim(x, -1);
    Operand<T> scale = ctx.store().get(prefix + "/scale", new long[] {d}, Initializer.ones());
    Operand<T> bias = ctx.store().get(prefix + "/bias", new long[] {d}, Initializer.zeros());
    Operand<T> mean = tf.math.mean(x, tf.constant(-1), Mean.keepDims(true));
    Operand<T> centered = tf.math.sub(x, mean);
    Operand<T> var = tf.math.mean(tf.math.square(centered), tf.constant(-1), Mean.keepDims(true));
    Operand<T> normed = tf.math.mul(centered, tf.math.rsqrt(tf.math.add(var, ctx.constant(EPSILON))));
    return tf.math.add(tf.math.mul(normed, scale), bias);
  }
}
