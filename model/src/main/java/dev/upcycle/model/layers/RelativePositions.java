package dev.upcycle.model.layers;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * T5 relative position buckets and the per-stack bias table {@code <stack>/relpos_bias/rel_embedding}
 * [heads, buckets]. Buckets are computed in Java (lengths are static) and gathered from the table.
 */
public final class RelativePositions {

  /** float32 machine epsilon, as the reference adds before the log. */
  private static final double EPS = Math.ulp(1.0f);

  private RelativePositions() {}

  /**
   * The bucket of {@code relative = keyPosition - queryPosition}. Bidirectional: half the buckets
   * for each sign; causal: only non-positive distances (future keys share bucket 0). Exact below
   * half of the (per-sign) buckets, log-spaced up to {@code maxDistance}, clipped.
   */
  public static int bucket(int relative, boolean bidirectional, int numBuckets, int maxDistance) {
    int ret = 0;
    int n = -relative;
    int buckets = numBuckets;
    if (bidirectional) {
      buckets /= 2;
      if (n < 0) {
        ret += buckets;
      }
      n = Math.abs(n);
    } else {
      n = Math.max(n, 0);
    }
    int maxExact = buckets / 2;
    if (n < maxExact) {
      return ret + n;
    }
    double scaled = Math.log((double) n / maxExact + EPS) / Math.log((double) maxDistance / maxExact)
        * (buckets - maxExact);
    int large = maxExact + (int) scaled;
    return ret + Math.min(large, buckets - 1);
  }

  /** Buckets for every (query, key) pair: [queryLength, keyLength]. */
  public static int[][] buckets(int queryLength, int keyLength, boolean bidirectional, int numBuckets, int maxDistance) {
    checkArgument(queryLength >= 1 && keyLength >= 1, "lengths %s, %s", queryLength, keyLength);
    int[][] out = new int[queryLength][keyLength];
    for (int q = 0; q < queryLength; q++) {
      for (int k = 0; k < keyLength; k++) {
        out[q][k] = bucket(k - q, bidirectional, numBuckets, maxDistance);
      }
    }
    return out;
  }

  /** The bias added to attention logits: [1, heads, queryLength, keyLength]. */
  public static <T extends TFloating> Operand<T> bias(BuildContext<T> ctx, String stack, int heads, int queryLength,
      int keyLength, boolean bidirectional, int numBuckets, int maxDistance) {
    Ops tf = ctx.tf();
    Operand<T> table = ctx.store().get(stack + "/relpos_bias/rel_embedding", new long[] {heads, numBuckets},
        Initializer.normal(0.1));
    int[][] b = buckets(queryLength, keyLength, bidirectional, numBuckets, maxDistance);
    int[] flat = new int[queryLength * keyLength];
    for (int q = 0; q < queryLength; q++) {
      System.arraycopy(b[q], 0, flat, q * keyLength, keyLength);
    }
    Operand<T> gathered = tf.gather(table, tf.constant(flat), tf.constant(1)); // [heads, q*k]
    return tf.reshape(gathered, tf.constant(new long[] {1, heads, queryLength, keyLength}));
  }
}
