package dev.upcycle.model.layers;

import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * The dense MLP blocks: T5 v1.1 gated GELU {@code wo(gelu(x·wi_0) ⊙ x·wi_1)} without biases, and
 * the ViT MLP {@code wo(gelu(x·wi + b) ) + b}.
 */
public final class Mlp {

  private Mlp() {}

  /** Gated GELU; variables {@code <prefix>/{wi_0,wi_1}/kernel} [d, dFf], {@code <prefix>/wo/kernel} [dFf, d]. */
  public static <T extends TFloating> Operand<T> gatedGelu(BuildContext<T> ctx, String prefix, Operand<T> x,
      long dFf, double dropout) {
    Ops tf = ctx.tf();
    long d = Shapes.dim(x, -1);
    Operand<T> gate = Activations.geluTanh(ctx, Dense.apply(ctx, prefix + "/wi_0", x, dFf, false, Initializer.fanIn(1.0)));
    Operand<T> lin = Dense.apply(ctx, prefix + "/wi_1", x, dFf, false, Initializer.fanIn(1.0));
    Operand<T> h = Dropout.apply(ctx, tf.math.mul(gate, lin), dropout);
    return Dense.apply(ctx, prefix + "/wo", h, d, false, Initializer.fanIn(1.0));
  }

  /** ViT MLP with biases; variables {@code <prefix>/wi/{kernel,bias}}, {@code <prefix>/wo/{kernel,bias}}. */
  public static <T extends TFloating> Operand<T> geluWithBias(BuildContext<T> ctx, String prefix, Operand<T> x,
      long dFf, double dropout) {
    long d = Shapes.dim(x, -1);
    Operand<T> h = Activations.geluTanh(ctx, Dense.apply(ctx, prefix + "/wi", x, dFf, true, Initializer.fanIn(1.0)));
    h = Dropout.apply(ctx, h, dropout);
    return Dense.apply(ctx, prefix + "/wo", h, d, true, Initializer.fanIn(1.0));
  }
}
