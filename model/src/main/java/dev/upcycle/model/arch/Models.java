package dev.upcycle.model.arch;

import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.graph.BuildContext;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** One entry point over the three architectures: forward pass and token/label loss. */
public final class Models {

  private Models() {}

  public static <T extends TFloating> ModelOutputs<T> forward(BuildContext<T> ctx, ModelSpec spec, ModelInputs<T> in) {
    if (spec.arch() instanceof T5Config) {
      return T5Model.build(ctx, spec, in.inputs(), in.decoderInputs(), in.targets());
    }
    if (spec.arch() instanceof LmConfig) {
      return DecoderLm.build(ctx, spec, in.inputs(), in.targets());
    }
    return VitModel.build(ctx, spec, in.images());
  }

  /** Cross-entropy (+ logit z-loss) on targets (T5, LM; padding 0 ignored) or labels (ViT). */
  public static <T extends TFloating> Losses.TokenLoss<T> loss(BuildContext<T> ctx, ModelSpec spec, ModelInputs<T> in,
      ModelOutputs<T> out, double zLossFactor, double labelSmoothing) {
    Ops tf = ctx.tf();
    if (in.labels() != null) {
      Operand<T> ones = tf.onesLike(tf.dtypes.cast(in.labels(), ctx.dtype()));
      return Losses.tokens(ctx, out.logits(), in.labels(), ones, zLossFactor, labelSmoothing);
    }
    return Losses.tokens(ctx, out.logits(), in.targets(), Losses.nonPaddingWeights(ctx, in.targets()), zLossFactor,
        labelSmoothing);
  }

  /**
   * The scalar a step minimises: cross-entropy + z-loss + aux factor × mean aux + router-z factor ×
   * mean router z (MoE factors from the spec; 0 for dense models).
   */
  public static <T extends TFloating> Operand<T> totalLoss(BuildContext<T> ctx, ModelSpec spec, Losses.TokenLoss<T> loss,
      ModelOutputs<T> out) {
    Ops tf = ctx.tf();
    Operand<T> total = tf.math.add(loss.crossEntropy(), loss.zLoss());
    if (spec.moe().isPresent() && !out.moeLayers().isEmpty()) {
      total = tf.math.add(total, tf.math.mul(ctx.constant(spec.moe().get().auxLossFactor()), out.auxLoss()));
      total = tf.math.add(total, tf.math.mul(ctx.constant(spec.moe().get().routerZLossFactor()), out.routerZLoss()));
    }
    return total;
  }
}
