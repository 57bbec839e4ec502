package dev.upcycle.model.arch;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.layers.Mlp;
import dev.upcycle.model.moe.ExpertKind;
import dev.upcycle.model.moe.MoeLayer;
import dev.upcycle.model.moe.MoeLayerStats;
import dev.upcycle.model.names.CanonicalNames;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.types.family.TFloating;

/** Builds layer i's MLP as the dense block or as an MoE layer, per the spec's layout. */
final class MlpBlock {

  private MlpBlock() {}

  static <T extends TFloating> Operand<T> apply(BuildContext<T> ctx, ModelSpec spec, String layerPrefix, Operand<T> x,
      boolean sparse, boolean causal, ExpertKind kind, List<MoeLayerStats<T>> stats) {
    String prefix = CanonicalNames.mlp(layerPrefix);
    long dFf = spec.arch().dFf();
    double dropout = spec.arch().dropout();
    if (!sparse) {
      return kind == ExpertKind.GATED_GELU
          ? Mlp.gatedGelu(ctx, prefix, x, dFf, dropout)
          : Mlp.geluWithBias(ctx, prefix, x, dFf, dropout);
    }
    MoeLayer.Output<T> out = MoeLayer.apply(ctx.scope("moe"), prefix, x, spec.moe().orElseThrow(), causal, dFf, kind);
    stats.add(out.stats());
    return out.output();
  }

  /** Mean of the MoE losses over layers; a 0 constant without MoE layers. */
  static <T extends TFloating> Operand<T>[] meanLosses(BuildContext<T> ctx, List<MoeLayerStats<T>> stats) {
    @SuppressWarnings("unchecked")
    Operand<T>[] out = new Operand[2];
    if (stats.isEmpty()) {
      out[0] = ctx.constant(0.0);
      out[1] = ctx.constant(0.0);
      return out;
    }
    var tf = ctx.tf();
    out[0] = tf.math.div(tf.math.addN(stats.stream().map(MoeLayerStats::auxLoss).toList()), ctx.constant(stats.size()));
    out[1] = tf.math.div(tf.math.addN(stats.stream().map(MoeLayerStats::routerZLoss).toList()),
        ctx.constant(stats.size()));
    return out;
  }
}
