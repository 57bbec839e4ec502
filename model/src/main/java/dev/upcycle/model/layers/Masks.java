package dev.upcycle.model.layers;

import dev.upcycle.model.graph.BuildContext;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Additive attention biases: 0 where attention is allowed, {@value #NEG_INF} where it is not.
 * Token id 0 is padding (T5 convention).
 */
public final class Masks {

  public static final double NEG_INF = -1e10;

  private Masks() {}

  /** [batch, length] true where the token id is not padding. */
  public static Operand<TBool> nonPadding(Ops tf, Operand<TInt32> ids) {
    return tf.math.notEqual(ids, tf.constant(0));
  }

  /**
   * Padding bias [batch, 1, queryLength, keyLength] from query and key validity [batch, length]:
   * allowed only where both are real tokens.
   */
  public static <T extends TFloating> Operand<T> paddingBias(BuildContext<T> ctx, Operand<TBool> queryValid,
      Operand<TBool> keyValid) {
    Ops tf = ctx.tf();
    Operand<T> q = tf.dtypes.cast(tf.expandDims(tf.expandDims(queryValid, tf.constant(1)), tf.constant(3)), ctx.dtype());
    Operand<T> k = tf.dtypes.cast(tf.expandDims(tf.expandDims(keyValid, tf.constant(1)), tf.constant(2)), ctx.dtype());
    return allowedToBias(ctx, tf.math.mul(q, k));
  }

  /** Causal bias [1, 1, length, length]: a query sees keys at its position and before. */
  public static <T extends TFloating> Operand<T> causalBias(BuildContext<T> ctx, int length) {
    float[][][][] allowed = new float[1][1][length][length];
    for (int q = 0; q < length; q++) {
      for (int k = 0; k <= q; k++) {
        allowed[0][0][q][k] = 1f;
      }
    }
    return allowedToBias(ctx, ctx.tf().dtypes.cast(ctx.tf().constant(allowed), ctx.dtype()));
  }

  /** Maps a 0/1 "allowed" tensor to 0 / NEG_INF. */
  public static <T extends TFloating> Operand<T> allowedToBias(BuildContext<T> ctx, Operand<T> allowed) {
    Ops tf = ctx.tf();
    return tf.math.mul(tf.math.sub(ctx.constant(1.0), allowed), ctx.constant(NEG_INF));
  }

  /** The sum of biases, skipping nulls. */
  @SafeVarargs
  public static <T extends TFloating> Operand<T> combine(BuildContext<T> ctx, Operand<T>... biases) {
    Operand<T> out = null;
    for (Operand<T> b : biases) {
      if (b != null) {
        out = out == null ? b : ctx.tf().math.add(out, b);
      }
    }
    return out;
  }
}
