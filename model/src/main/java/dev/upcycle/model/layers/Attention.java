package dev.upcycle.model.layers;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Multi-head dot-product attention with variables {@code <prefix>/{query,key,value,out}/kernel}
 * (2-D: [d, heads·dKv] and [heads·dKv, d]) and, for ViT, {@code .../bias}.
 *
 * <p>T5 applies no runtime 1/√dKv (it is folded into the query initialisation); ViT scales at run
 * time. Self-attention is {@code query == memory}; cross-attention passes the encoder output.
 */
public final class Attention {

  /** Static settings of one attention block. */
  public record Spec(int heads, int dKv, boolean bias, boolean scaleQuery, double dropout) {}

  private Attention() {}

  /**
   * @param query [batch, qLen, d]
   * @param memory [batch, kLen, d]
   * @param bias additive logits bias broadcastable to [batch, heads, qLen, kLen], or null
   * @return [batch, qLen, d]
   */
  public static <T extends TFloating> Operand<T> apply(BuildContext<T> ctx, String prefix, Operand<T> query,
      Operand<T> memory, Operand<T> bias, Spec spec) {
    Ops tf = ctx.tf();
    long[] qShape = Shapes.of(query);
    long[] kShape = Shapes.of(memory);
    long batch = qShape[0];
    long qLen = qShape[1];
    long kLen = kShape[1];
    long d = qShape[2];
    long inner = (long) spec.heads() * spec.dKv();
    Initializer qInit = spec.scaleQuery() ? Initializer.fanIn(1.0) : Initializer.fanIn(1.0 / spec.dKv());
    Operand<T> q = heads(tf, Dense.apply(ctx, prefix + "/query", query, inner, spec.bias(), qInit), batch, qLen, spec);
    Operand<T> k = heads(tf, Dense.apply(ctx, prefix + "/key", memory, inner, spec.bias(), Initializer.fanIn(1.0)),
        batch, kLen, spec);
    Operand<T> v = heads(tf, Dense.apply(ctx, prefix + "/value", memory, inner, spec.bias(), Initializer.fanIn(1.0)),
        batch, kLen, spec);
    if (spec.scaleQuery()) {
      q = tf.math.mul(q, ctx.constant(1.0 / Math.sqrt(spec.dKv())));
    }
    // [batch, heads, qLen, kLen]
    Operand<T> logits = ctx.batchMatMul(q, k, true); // bfloat16 operands under that precision; logits in dtype
    if (bias != null) {
      logits = tf.math.add(logits, bias);
    }
    Operand<T> weights = Dropout.apply(ctx, tf.nn.softmax(logits), spec.dropout());
    Operand<T> context = ctx.batchMatMul(weights, v, false); // [batch, heads, qLen, dKv]
    Operand<T> merged = tf.reshape(tf.linalg.transpose(context, tf.constant(new int[] {0, 2, 1, 3})),
        tf.constant(new long[] {batch, qLen, inner}));
    return Dense.apply(ctx, prefix + "/out", merged, d, spec.bias(), Initializer.fanIn(1.0));
  }

  /** [batch, len, heads·dKv] → [batch, heads, len, dKv]. */
  private static <T extends TFloating> Operand<T> heads(Ops tf, Operand<T> x, long batch, long len, Spec spec) {
    Operand<T> split = tf.reshape(x, tf.constant(new long[] {batch, len, spec.heads(), spec.dKv()}));
    return tf.linalg.transpose(split, tf.constant(new int[] {0, 2, 1, 3}));
  }
}
