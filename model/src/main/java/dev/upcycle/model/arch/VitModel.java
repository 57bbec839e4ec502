package dev.upcycle.model.arch;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import dev.upcycle.model.layers.Attention;
import dev.upcycle.model.layers.Dense;
import dev.upcycle.model.layers.Dropout;
import dev.upcycle.model.layers.Embeddings;
import dev.upcycle.model.layers.Norms;
import dev.upcycle.model.layers.Shapes;
import dev.upcycle.model.moe.ExpertKind;
import dev.upcycle.model.moe.MoeLayerStats;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * ViT classifier: patch embedding, optional class token, learned position embedding, pre-LayerNorm
 * blocks with biased attention and biased GELU MLPs (or MoE layers), final LayerNorm, CLS or GAP
 * pooling, linear head {@code head/kernel|bias}.
 */
public final class VitModel {

  private VitModel() {}

  /**
   * @param images [batch, imageSize, imageSize, channels], float in the compute dtype
   * @return logits [batch, numClasses]
   */
  public static <T extends TFloating> ModelOutputs<T> build(BuildContext<T> ctx, ModelSpec spec, Operand<T> images) {
    checkArgument(spec.arch() instanceof VitConfig, "VitModel needs a VitConfig, got %s", spec.arch());
    VitConfig c = (VitConfig) spec.arch();
    long[] s = Shapes.of(images);
    checkArgument(s.length == 4 && s[1] == c.imageSize() && s[2] == c.imageSize() && s[3] == c.channels(),
        "images must be [batch, %s, %s, %s], got %s", c.imageSize(), c.imageSize(), c.channels(),
        java.util.Arrays.toString(s));
    Ops tf = ctx.tf();
    long batch = s[0];
    long d = c.dModel();
    List<MoeLayerStats<T>> stats = new ArrayList<>();
    Operand<T> x = Embeddings.patches(ctx, images, c.patchSize(), d); // [batch, patches, d]
    if (c.pooling() == VitConfig.Pooling.CLS) {
      Operand<T> cls = ctx.store().get("cls", new long[] {1, 1, d}, Initializer.zeros());
      x = tf.concat(List.of(tf.tile(cls, tf.constant(new long[] {batch, 1, 1})), x), tf.constant(1));
    }
    Operand<T> pos = ctx.store().get("pos_embedding", new long[] {1, c.sequenceLength(), d}, Initializer.normal(0.02));
    x = Dropout.apply(ctx, tf.math.add(x, pos), c.dropout());
    Attention.Spec att = new Attention.Spec(c.numHeads(), c.dKv(), true, true, c.dropout());
    ImmutableSet<Integer> sparse = spec.encoderLayout().sparseLayers(c.layers());
    BuildContext<T> ectx = ctx.scope("encoder");
    for (int i = 0; i < c.layers(); i++) {
      String p = "encoder/layers_" + i;
      BuildContext<T> lctx = ectx.scope("layers_" + i);
      Operand<T> h = Norms.layerNorm(lctx, p + "/pre_attention_layer_norm", x);
      x = tf.math.add(x, Dropout.apply(lctx, Attention.apply(lctx, p + "/attention", h, h, null, att), c.dropout()));
      h = Norms.layerNorm(lctx, p + "/pre_mlp_layer_norm", x);
      x = tf.math.add(x, Dropout.apply(lctx, MlpBlock.apply(lctx, spec, p, h, sparse.contains(i), false,
          ExpertKind.GELU_WITH_BIAS, stats), c.dropout()));
    }
    x = Norms.layerNorm(ectx, "encoder/encoder_norm", x);
    Operand<T> pooled = c.pooling() == VitConfig.Pooling.CLS
        ? tf.squeeze(tf.slice(x, tf.constant(new int[] {0, 0, 0}), tf.constant(new int[] {(int) batch, 1, (int) d})),
            org.tensorflow.op.core.Squeeze.axis(List.of(1L)))
        : tf.math.mean(x, tf.constant(1));
    Operand<T> logits = Dense.apply(ctx, "head", pooled, c.numClasses(), true, Initializer.fanIn(1.0));
    Operand<T>[] losses = MlpBlock.meanLosses(ctx, stats);
    return new ModelOutputs<>(logits, ImmutableList.copyOf(stats), losses[0], losses[1]);
  }
}
