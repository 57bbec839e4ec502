package dev.upcycle.model.layers;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/** Token embedding lookup and ViT patch embedding. */
public final class Embeddings {

  private Embeddings() {}

  /** {@code ids [batch, len]} → [batch, len, d] from {@code <name>} [vocab, d]. */
  public static <T extends TFloating> Operand<T> tokens(BuildContext<T> ctx, String name, Operand<TInt32> ids,
      long vocab, long d) {
    Operand<T> table = ctx.store().get(name, new long[] {vocab, d}, Initializer.normal(1.0));
    return ctx.tf().gather(table, ids, ctx.tf().constant(0));
  }

  /**
   * Non-overlapping patches of {@code images [batch, H, W, C]} projected to d: the same as a
   * stride-p convolution with kernel {@code embedding/kernel} [p, p, C, d] (HWIO) and bias
   * {@code embedding/bias} [d]. Returns [batch, (H/p)·(W/p), d] in row-major patch order.
   */
  public static <T extends TFloating> Operand<T> patches(BuildContext<T> ctx, Operand<T> images, int patch, long d) {
    Ops tf = ctx.tf();
    long[] s = Shapes.of(images);
    long batch = s[0];
    long gh = s[1] / patch;
    long gw = s[2] / patch;
    long c = s[3];
    Operand<T> kernel = ctx.store().get("embedding/kernel", new long[] {patch, patch, c, d}, Initializer.fanIn(1.0));
    Operand<T> bias = ctx.store().get("embedding/bias", new long[] {d}, Initializer.zeros());
    // [batch, gh, p, gw, p, C] → [batch, gh, gw, p, p, C] → [batch·gh·gw, p·p·C]
    Operand<T> grid = tf.reshape(images, tf.constant(new long[] {batch, gh, patch, gw, patch, c}));
    Operand<T> ordered = tf.linalg.transpose(grid, tf.constant(new int[] {0, 1, 3, 2, 4, 5}));
    Operand<T> flat = tf.reshape(ordered, tf.constant(new long[] {batch * gh * gw, (long) patch * patch * c}));
    Operand<T> w = tf.reshape(kernel, tf.constant(new long[] {(long) patch * patch * c, d}));
    Operand<T> projected = tf.math.add(ctx.matMul(flat, w), bias);
    return tf.reshape(projected, tf.constant(new long[] {batch, gh * gw, d}));
  }
}
