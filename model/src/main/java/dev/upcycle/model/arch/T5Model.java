package dev.upcycle.model.arch;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
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
 * T5 v1.1 encoder-decoder (PAPER.md §5): shared token embedding without scaling, pre-RMSNorm
 * blocks, relative position bias per stack (bidirectional in the encoder, causal in the decoder),
 * gated-GELU MLPs (or MoE layers), final norms, untied {@code decoder/logits_dense}.
 */
public final class T5Model {

  private T5Model() {}

  /**
   * @param encoderIds [batch, inputLength] int32, 0 = padding
   * @param decoderIds [batch, targetLength] int32, the targets shifted right (starting with 0)
   * @param targetIds [batch, targetLength] int32, 0 = padding; masks decoder keys as T5X does
   * @return logits [batch, targetLength, vocab]
   */
  public static <T extends TFloating> ModelOutputs<T> build(BuildContext<T> ctx, ModelSpec spec,
      Operand<TInt32> encoderIds, Operand<TInt32> decoderIds, Operand<TInt32> targetIds) {
    checkArgument(spec.arch() instanceof T5Config, "T5Model needs a T5Config, got %s", spec.arch());
    T5Config c = (T5Config) spec.arch();
    Ops tf = ctx.tf();
    List<MoeLayerStats<T>> stats = new ArrayList<>();
    Operand<TBool> encValid = Masks.nonPadding(tf, encoderIds);
    Operand<TBool> decValid = Masks.nonPadding(tf, targetIds);

    Operand<T> encoded = encode(ctx.scope("encoder"), spec, c, encoderIds, encValid, stats);

    Operand<T> logits = decode(ctx.scope("decoder"), spec, c, encoded, encValid, decoderIds, decValid, stats);
    Operand<T>[] losses = MlpBlock.meanLosses(ctx, stats);
    return new ModelOutputs<>(logits, ImmutableList.copyOf(stats), losses[0], losses[1]);
  }

  /**
   * The decoder stack alone.
   *
   * @param encoded [batch, inputLength, d] the encoder's output
   * @param encValid [batch, inputLength] real encoder tokens
   * @param decoderIds [batch, targetLength] int32, the targets shifted right (starting with 0)
   * @param decValid [batch, targetLength] real decoder positions (masks decoder keys)
   * @return logits [batch, targetLength, vocab]
   */
  public static <T extends TFloating> Operand<T> decode(BuildContext<T> dctx, ModelSpec spec, T5Config c,
      Operand<T> encoded, Operand<TBool> encValid, Operand<TInt32> decoderIds, Operand<TBool> decValid,
      List<MoeLayerStats<T>> stats) {
    Ops tf = dctx.tf();
    int tLen = (int) Shapes.dim(decoderIds, 1);
    Attention.Spec att = new Attention.Spec(c.numHeads(), c.dKv(), false, false, c.dropout());
    Operand<T> selfBias = Masks.combine(dctx, Masks.paddingBias(dctx, decValid, decValid),
        Masks.causalBias(dctx, tLen),
        RelativePositions.bias(dctx, "decoder", c.numHeads(), tLen, tLen, false, c.relativeBuckets(),
            c.relativeMaxDistance()));
    Operand<T> crossBias = Masks.paddingBias(dctx, decValid, encValid);
    Operand<T> y = Dropout.apply(dctx, Embeddings.tokens(dctx, "token_embedder/embedding", decoderIds, c.vocabSize(),
        c.dModel()), c.dropout());
    ImmutableSet<Integer> sparse = spec.decoderLayout().sparseLayers(c.decoderLayers());
    for (int i = 0; i < c.decoderLayers(); i++) {
      String p = "decoder/layers_" + i;
      BuildContext<T> lctx = dctx.scope("layers_" + i);
      Operand<T> h = Norms.rmsNorm(lctx, p + "/pre_self_attention_layer_norm", y);
      y = tf.math.add(y, Dropout.apply(lctx, Attention.apply(lctx, p + "/self_attention", h, h, selfBias, att),
          c.dropout()));
      h = Norms.rmsNorm(lctx, p + "/pre_cross_attention_layer_norm", y);
      y = tf.math.add(y, Dropout.apply(lctx, Attention.apply(lctx, p + "/encoder_decoder_attention", h, encoded,
          crossBias, att), c.dropout()));
      h = Norms.rmsNorm(lctx, p + "/pre_mlp_layer_norm", y);
      y = tf.math.add(y, Dropout.apply(lctx, MlpBlock.apply(lctx, spec, p, h, sparse.contains(i), true,
          ExpertKind.GATED_GELU, stats), c.dropout()));
    }
    y = Dropout.apply(dctx, Norms.rmsNorm(dctx, "decoder/decoder_norm", y), c.dropout());
    return Dense.apply(dctx, "decoder/logits_dense", y, c.vocabSize(), false, Initializer.fanIn(1.0));
  }

  /** The encoder stack alone: [batch, inputLength, d]. */
  public static <T extends TFloating> Operand<T> encode(BuildContext<T> ectx, ModelSpec spec, T5Config c,
      Operand<TInt32> encoderIds, Operand<TBool> encValid, List<MoeLayerStats<T>> stats) {
    Ops tf = ectx.tf();
    int iLen = (int) Shapes.dim(encoderIds, 1);
    Attention.Spec att = new Attention.Spec(c.numHeads(), c.dKv(), false, false, c.dropout());
    Operand<T> bias = Masks.combine(ectx, Masks.paddingBias(ectx, encValid, encValid),
        RelativePositions.bias(ectx, "encoder", c.numHeads(), iLen, iLen, true, c.relativeBuckets(),
            c.relativeMaxDistance()));
    Operand<T> x = Dropout.apply(ectx, Embeddings.tokens(ectx, "token_embedder/embedding", encoderIds, c.vocabSize(),
        c.dModel()), c.dropout());
    ImmutableSet<Integer> sparse = spec.encoderLayout().sparseLayers(c.encoderLayers());
    for (int i = 0; i < c.encoderLayers(); i++) {
      String p = "encoder/layers_" + i;
      BuildContext<T> lctx = ectx.scope("layers_" + i);
      Operand<T> h = Norms.rmsNorm(lctx, p + "/pre_attention_layer_norm", x);
      x = tf.math.add(x, Dropout.apply(lctx, Attention.apply(lctx, p + "/attention", h, h, bias, att), c.dropout()));
      h = Norms.rmsNorm(lctx, p + "/pre_mlp_layer_norm", x);
      x = tf.math.add(x, Dropout.apply(lctx, MlpBlock.apply(lctx, spec, p, h, sparse.contains(i), false,
          ExpertKind.GATED_GELU, stats), c.dropout()));
    }
    return Dropout.apply(ectx, Norms.rmsNorm(ectx, "encoder/encoder_norm", x), c.dropout());
  }
}
