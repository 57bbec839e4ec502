package dev.upcycle.model.moe;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.layers.Shapes;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.math.Cumsum;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/** Pieces both routers share: z-loss, flat gathers, per-token renormalisation, expert shares. */
final class RouterMath {

  private RouterMath() {}

  /** mean over tokens of logsumexp(logits)², logits [G, S, E]. */
  static <T extends TFloating> Operand<T> zLoss(BuildContext<T> ctx, Operand<T> logits) {
    Ops tf = ctx.tf();
    Operand<T> max = tf.stopGradient(tf.reduceMax(logits, tf.constant(-1), ReduceMax.keepDims(true)));
    Operand<T> lse = tf.math.add(tf.squeeze(max, org.tensorflow.op.core.Squeeze.axis(java.util.List.of(-1L))),
        tf.math.log(tf.reduceSum(tf.math.exp(tf.math.sub(logits, max)), tf.constant(-1))));
    return tf.math.mean(tf.math.square(lse), tf.constant(new int[] {0, 1}));
  }

  /**
   * Gathers {@code probs[g, token, e]} for every slot: probs [G, S, E], tokenIndex [G, E, C] → [G, E, C].
   * Done as one flat gather, whose gradient is a plain GatherV2 gradient.
   */
  static <T extends TFloating> Operand<T> probsAtSlots(BuildContext<T> ctx, Operand<T> probs, Operand<TInt32> tokenIndex) {
    Ops tf = ctx.tf();
    long[] p = Shapes.of(probs);
    long[] t = Shapes.of(tokenIndex);
    int groups = (int) p[0];
    int s = (int) p[1];
    int experts = (int) p[2];
    int cap = (int) t[2];
    int[][][] base = new int[groups][experts][1];
    for (int g = 0; g < groups; g++) {
      for (int e = 0; e < experts; e++) {
        base[g][e][0] = g * s * experts + e;
      }
    }
    // flat index of probs[g, token, e] = (g·S + token)·E + e
    Operand<TInt32> flatIndex = tf.math.add(tf.math.mul(tokenIndex, tf.constant(experts)), tf.constant(base));
    Operand<T> flat = tf.reshape(probs, tf.constant(new long[] {(long) groups * s * experts}));
    return tf.reshape(tf.gather(flat, flatIndex, tf.constant(0)), tf.constant(new long[] {groups, experts, cap}));
  }

  /** Token index within the whole batch for every slot: g·S + tokenIndex, [G, E, C]. */
  static Operand<TInt32> globalTokenIndex(Ops tf, Operand<TInt32> tokenIndex, int groupSize) {
    long[] t = Shapes.of(tokenIndex);
    int[][][] base = new int[(int) t[0]][1][1];
    for (int g = 0; g < t[0]; g++) {
      base[g][0][0] = g * groupSize;
    }
    return tf.math.add(tokenIndex, tf.constant(base));
  }

  /** Divides each token's filled-slot weights by their sum over all its slots. */
  static <T extends TFloating> Operand<T> renormalize(BuildContext<T> ctx, Operand<T> combine, Operand<T> filled,
      Operand<TInt32> tokenIndex, int groupSize) {
    Ops tf = ctx.tf();
    long[] shape = Shapes.of(combine);
    long slots = shape[0] * shape[1] * shape[2];
    int tokens = (int) (shape[0] * groupSize);
    Operand<TInt32> global = tf.reshape(globalTokenIndex(tf, tokenIndex, groupSize), tf.constant(new long[] {slots}));
    Operand<T> w = tf.math.mul(combine, filled);
    Operand<T> perToken = tf.math.unsortedSegmentSum(tf.reshape(w, tf.constant(new long[] {slots})), global,
        tf.constant(tokens));
    Operand<T> denom = tf.reshape(tf.gather(perToken, global, tf.constant(0)), tf.constant(shape));
    // empty slots have w = 0; guard their (possibly zero) denominator
    Operand<T> safe = tf.math.add(denom, tf.math.sub(ctx.constant(1.0), filled));
    return tf.math.div(w, safe);
  }

  /** Share of filled slots per expert: filled [G, E, C] → [E], summing to 1 when any slot is filled. */
  static <T extends TFloating> Operand<T> expertFraction(BuildContext<T> ctx, Operand<T> filled) {
    Ops tf = ctx.tf();
    Operand<T> perExpert = tf.reduceSum(filled, tf.constant(new int[] {0, 2}));
    Operand<T> total = tf.math.maximum(tf.reduceSum(perExpert, tf.constant(0)), ctx.constant(1.0));
    return tf.math.div(perExpert, total);
  }

  /**
   * Exclusive cumulative sum along axis 1 of {@code x} [G, L, E], in two levels: within blocks of
   * b ≈ √L positions, plus the exclusive cumulative sum of the block totals. The same integers as
   * one Cumsum; XLA compiles Cumsum to a reduce-window over the whole axis (O(L²) adds on CPU), so
   * this does O(L·(b + L/b)) there. Falls back to one Cumsum when L has no divisor near √L.
   */
  static Operand<TInt32> exclusiveCumsum(Ops tf, Operand<TInt32> x) {
    long[] s = Shapes.of(x);
    long length = s[1];
    long block = 1;
    for (long b = 1; b * b <= length; b++) {
      if (length % b == 0) {
        block = b;
      }
    }
    if (block * block * 4 < length) { // no divisor near √L (e.g. L prime): nothing to gain
      return tf.math.cumsum(x, tf.constant(1), Cumsum.exclusive(true));
    }
    long blocks = length / block;
    Operand<TInt32> blocked = tf.reshape(x, tf.constant(new long[] {s[0], blocks, block, s[2]})); // [G, L/b, b, E]
    Operand<TInt32> within = tf.math.cumsum(blocked, tf.constant(2), Cumsum.exclusive(true));
    Operand<TInt32> totals = tf.sum(blocked, tf.constant(2)); // [G, L/b, E]
    Operand<TInt32> offsets = tf.math.cumsum(totals, tf.constant(1), Cumsum.exclusive(true));
    return tf.reshape(tf.math.add(within, tf.expandDims(offsets, tf.constant(2))), tf.constant(s));
  }

  static <T extends TFloating> Operand<T> sumAll(Ops tf, Operand<T> x) {
    return tf.sum(x, tf.range(tf.constant(0), tf.rank(x), tf.constant(1)), Sum.keepDims(false));
  }
}
