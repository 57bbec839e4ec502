package dev.upcycle.model.layers;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import java.util.Arrays;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A linear projection on the last axis: {@code x [..., in] · kernel [in, out] (+ bias [out])}.
 * Variables are {@code <prefix>/kernel} and {@code <prefix>/bias}.
 */
public final class Dense {

  private Dense() {}

  public static <T extends TFloating> Operand<T> apply(BuildContext<T> ctx, String prefix, Operand<T> x,
      long outDim, boolean bias, Initializer kernelInit) {
    long[] shape = Shapes.of(x);
    long inDim = shape[shape.length - 1];
    Operand<T> kernel = ctx.store().get(prefix + "/kernel", new long[] {inDim, outDim}, kernelInit);
    Operand<T> y = project(ctx, x, kernel);
    if (bias) {
      Operand<T> b = ctx.store().get(prefix + "/bias", new long[] {outDim}, Initializer.zeros());
      y = ctx.tf().math.add(y, b);
    }
    return y;
  }

  /**
   * {@code x [..., in] · w [in, out] → [..., out]} as one MatMul over the flattened leading axes, in
   * the context's precision.
   */
  public static <T extends TFloating> Operand<T> project(BuildContext<T> ctx, Operand<T> x, Operand<T> w) {
    Ops tf = ctx.tf();
    long[] shape = Shapes.of(x);
    long[] wShape = Shapes.of(w);
    if (shape.length == 2) {
      return ctx.matMul(x, w);
    }
    long rows = Shapes.product(shape, 0, shape.length - 1);
    Operand<T> flat = tf.reshape(x, tf.constant(new long[] {rows, shape[shape.length - 1]}));
    long[] out = Arrays.copyOf(shape, shape.length);
    out[out.length - 1] = wShape[1];
    return tf.reshape(ctx.matMul(flat, w), tf.constant(out));
  }
}
