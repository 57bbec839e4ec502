package dev.upcycle.model.arch;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import dev.upcycle.model.layers.Attention;
import dev.upcycle.model.layers.Dense;
import dev.upcycle.model.layers.Dropout;
import dev.upcycle.model.layers.Embeddings;
import dev.upcycle.model.layers.Masks;
import dev.upcycle.model.layers.Norms;
import dev.upcycle.model.layers.RelativePositions;
import dev.upcycle.model.layers.Shapes;
import dev.upcycle.model.moe.ExpertKind;
import dev.upcycle.model.moe.MoeLayerStats;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Decoder-only LM (T5X "decoder_only" layout): token embedding, causal self-attention with causal
 * relative position buckets, gated-GELU MLPs or top-K MoE layers, final RMSNorm, untied logits.
 * Variables live under {@code decoder/...} as in T5X.
 */
public final class DecoderLm {

  private DecoderLm() {}

  /**
   * @param inputIds [batch, length] int32, the sequence shifted right
   * @param targetIds [batch, length] int32, 0 = padding (masks keys)
   * @return logits [batch, length, vocab]
   */
  public static <T extends TFloating> ModelOutputs<T> build(BuildContext<T> ctx, ModelSpec spec,
      Operand<TInt32> inputIds, Operand<TInt32> targetIds) {
    checkArgument(spec.arch() instanceof LmConfig, "DecoderLm needs an LmConfig, got %s", spec.arch());
    LmConfig c = (LmConfig) spec.arch();
    Ops tf = ctx.tf();
    int len = (int) Shapes.dim(inputIds, 1);
    List<MoeLayerStats<T>> stats = new ArrayList<>();
    BuildContext<T> dctx = ctx.scope("decoder");
    Operand<TBool> valid = Masks.nonPadding(tf, targetIds);
    Operand<T> bias = Masks.combine(dctx, Masks.paddingBias(dctx, valid, valid), Masks.causalBias(dctx, len),
        RelativePositions.bias(dctx, "decoder", c.numHeads(), len, len, false, c.relativeBuckets(),
            c.relativeMaxDistance()));
    Attention.Spec att = new Attention.Spec(c.numHeads(), c.dKv(), false, false, c.dropout());
    Operand<T> y = Dropout.apply(dctx, Embeddings.tokens(dctx, "token_embedder/embedding", inputIds, c.vocabSize(),
        c.dModel()), c.dropout());
    ImmutableSet<Integer> sparse = spec.encoderLayout().sparseLayers(c.layers());
    for (int i = 0; i < c.layers(); i++) {
      String p = "decoder/layers_" + i;
      BuildContext<T> lctx = dctx.scope("layers_" + i);
      Operand<T> h = Norms.rmsNorm(lctx, p + "/pre_self_attention_layer_norm", y);
      y = tf.math.add(y, Dropout.apply(lctx, Attention.apply(lctx, p + "/self_attention", h, h, bias, att), c.dropout()));
      h = Norms.rmsNorm(lctx, p + "/pre_mlp_layer_norm", y);
      y = tf.math.add(y, Dropout.apply(lctx, MlpBlock.apply(lctx, spec, p, h, sparse.contains(i), true,
          ExpertKind.GATED_GELU, stats), c.dropout()));
    }
    y = Dropout.apply(dctx, Norms.rmsNorm(dctx, "decoder/decoder_norm", y), c.dropout());
    Operand<T> logits = Dense.apply(dctx, "decoder/logits_dense", y, c.vocabSize(), false, Initializer.fanIn(1.0));
    Operand<T>[] losses = MlpBlock.meanLosses(ctx, stats);
    return new ModelOutputs<>(logits, ImmutableList.copyOf(stats), losses[0], losses[1]);
  }
}
