package dev.upcycle.model.arch;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.layers.Shapes;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Token losses as T5X computes them: cross-entropy summed over real target tokens and divided by
 * their count, plus the logit z-loss {@code factor · logsumexp(logits)²} on the same tokens.
 * Built from LogSoftmax and a flat gather, both of which have C++ gradients.
 */
public final class Losses {

  /** T5X's default logit z-loss factor. */
  public static final double DEFAULT_Z_LOSS = 1e-4;

  private Losses() {}

  /** The cross-entropy part and the z-loss part, each normalised by the count of weighted tokens. */
  public record TokenLoss<T extends TFloating>(Operand<T> crossEntropy, Operand<T> zLoss, Operand<T> weightSum) {}

  /**
   * @param logits [batch, length, vocab] (or [batch, classes] with targets [batch])
   * @param targets [batch, length] int32 class ids
   * @param weights [batch, length] 1 for real tokens, 0 for padding
   */
  public static <T extends TFloating> TokenLoss<T> tokens(BuildContext<T> ctx, Operand<T> logits,
      Operand<TInt32> targets, Operand<T> weights, double zLossFactor, double labelSmoothing) {
    Ops tf = ctx.tf();
    long[] shape = Shapes.of(logits);
    long vocab = shape[shape.length - 1];
    long rows = Shapes.product(shape, 0, shape.length - 1);
    Operand<T> flatLogits = tf.reshape(logits, tf.constant(new long[] {rows, vocab}));
    Operand<T> max = tf.stopGradient(tf.reduceMax(flatLogits, tf.constant(-1), ReduceMax.keepDims(true)));
    Operand<T> shifted = tf.math.sub(flatLogits, max);
    Operand<T> logZshift = tf.math.log(tf.reduceSum(tf.math.exp(shifted), tf.constant(-1))); // [rows]
    Operand<T> logZ = tf.math.add(logZshift, tf.reshape(max, tf.constant(new long[] {rows})));
    // log p(target) = shifted[target] - logZshift
    int[] base = new int[(int) rows];
    for (int i = 0; i < rows; i++) {
      base[i] = (int) (i * vocab);
    }
    Operand<TInt32> flatTargets = tf.math.add(tf.reshape(targets, tf.constant(new long[] {rows})), tf.constant(base));
    Operand<T> picked = tf.gather(tf.reshape(shifted, tf.constant(new long[] {rows * vocab})), flatTargets,
        tf.constant(0));
    Operand<T> nll = tf.math.sub(logZshift, picked); // [rows]
    if (labelSmoothing > 0) {
      // (1-ε)·nll + ε·mean over classes of (-log p)
      Operand<T> meanNeg = tf.math.sub(logZshift, tf.math.mean(shifted, tf.constant(-1)));
      nll = tf.math.add(tf.math.mul(ctx.constant(1 - labelSmoothing), nll), tf.math.mul(ctx.constant(labelSmoothing),
          meanNeg));
    }
    Operand<T> w = tf.stopGradient(tf.reshape(weights, tf.constant(new long[] {rows})));
    Operand<T> weightSum = tf.math.maximum(tf.sum(w, tf.constant(0)), ctx.constant(1e-8));
    Operand<T> ce = tf.math.div(tf.sum(tf.math.mul(nll, w), tf.constant(0)), weightSum);
    Operand<T> z = tf.math.div(tf.sum(tf.math.mul(tf.math.square(logZ), w), tf.constant(0)), weightSum);
    return new TokenLoss<>(ce, tf.math.mul(z, ctx.constant(zLossFactor)), weightSum);
  }

  /** 1 where target ≠ 0 (T5 padding id), in the compute dtype. */
  public static <T extends TFloating> Operand<T> nonPaddingWeights(BuildContext<T> ctx, Operand<TInt32> targets) {
    Ops tf = ctx.tf();
    return tf.dtypes.cast(tf.math.notEqual(targets, tf.constant(0)), ctx.dtype());
  }
}
