package dev.upcycle.model.moe;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import dev.upcycle.model.layers.Activations;
import dev.upcycle.model.layers.Dropout;
import dev.upcycle.model.layers.Shapes;
import dev.upcycle.model.names.CanonicalNames;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * An MoE MLP block replacing {@code <prefix>/mlp}: tokens are split into groups, routed, gathered
 * into per-expert buffers [E, groups·C, d], run through all experts as batched matmuls over the
 * stacked weights {@code <prefix>/expert/...} [E, d, d_ff], weighted by their combine weights and
 * summed back per token with UnsortedSegmentSum. A token no expert took gets 0 here, so the block's
 * residual connection passes it through unchanged.
 */
public final class MoeLayer {

  /** The result: the block output [batch, length, d] and the layer's statistics. */
  public record Output<T extends TFloating>(Operand<T> output, MoeLayerStats<T> stats, Routing<T> routing) {}

  private MoeLayer() {}

  /**
   * @param prefix the MLP's variable prefix, e.g. {@code encoder/layers_1/mlp}
   * @param x [batch, length, d]
   * @param causal true in decoder stacks; expert choice is refused there
   */
  public static <T extends TFloating> Output<T> apply(BuildContext<T> ctx, String prefix, Operand<T> x,
      MoeConfig moe, boolean causal, long dFf, ExpertKind kind) {
    RouterConfig routerConfig = moe.router(causal);
    checkArgument(!(causal && routerConfig.type() == RouterType.EXPERT_CHOICE),
        "%s: expert choice routing cannot be used in a causal stack (a token would depend on later tokens);"
            + " use a top-K router", prefix);
    Ops tf = ctx.tf();
    long[] shape = Shapes.of(x);
    long d = shape[2];
    int tokens = Math.toIntExact(shape[0] * shape[1]);
    int groupSize = groupSize(tokens, moe.groupSize());
    int groups = tokens / groupSize;
    int experts = moe.numExperts();

    Operand<T> flat = tf.reshape(x, tf.constant(new long[] {tokens, d})); // [N, d]
    Operand<T> routerIn = flat;
    if (ctx.training() && routerConfig.jitter() > 0) {
      Operand<T> u = tf.random.statelessRandomUniform(tf.constant(new long[] {tokens, d}), ctx.nextSeed(), ctx.dtype());
      Operand<T> noise = tf.math.add(ctx.constant(1.0 - routerConfig.jitter()),
          tf.math.mul(u, ctx.constant(2 * routerConfig.jitter())));
      routerIn = tf.math.mul(flat, noise);
    }
    Operand<T> router = ctx.store().get(CanonicalNames.router(prefix), new long[] {d, experts},
        Initializer.normal(0.02));
    Operand<T> logits = tf.reshape(tf.linalg.matMul(routerIn, router),
        tf.constant(new long[] {groups, groupSize, experts})); // [G, S, E]
    Routing<T> routing = Router.of(routerConfig).route(ctx, logits);
    int cap = routing.capacity();

    // slot → token of the whole batch, ordered [E, G·C]
    Operand<TInt32> global = RouterMath.globalTokenIndex(tf, routing.tokenIndex(), groupSize); // [G, E, C]
    Operand<TInt32> byExpert = tf.reshape(tf.linalg.transpose(global, tf.constant(new int[] {1, 0, 2})),
        tf.constant(new long[] {experts, (long) groups * cap}));
    Operand<T> expertIn = tf.gather(flat, byExpert, tf.constant(0)); // [E, G·C, d]
    Operand<T> expertOut = experts(ctx, CanonicalNames.experts(prefix), expertIn, experts, d, dFf, kind, moe.expertDropout());
    Operand<T> weights = tf.reshape(tf.linalg.transpose(routing.combineWeights(), tf.constant(new int[] {1, 0, 2})),
        tf.constant(new long[] {experts, (long) groups * cap, 1}));
    Operand<T> weighted = tf.math.mul(expertOut, weights);
    long slots = (long) experts * groups * cap;
    Operand<T> combined = tf.math.unsortedSegmentSum(tf.reshape(weighted, tf.constant(new long[] {slots, d})),
        tf.reshape(byExpert, tf.constant(new long[] {slots})), tf.constant(tokens)); // [N, d]
    Operand<T> out = tf.reshape(combined, tf.constant(shape));
    MoeLayerStats<T> stats = new MoeLayerStats<>(prefix, routing.auxLoss(), routing.routerZLoss(),
        routing.expertFraction(), routing.droppedFraction(), cap, groupSize);
    return new Output<>(out, stats, routing);
  }

  /** Runs all experts at once: x [E, T, d] → [E, T, d]. */
  private static <T extends TFloating> Operand<T> experts(BuildContext<T> ctx, String prefix, Operand<T> x,
      int experts, long d, long dFf, ExpertKind kind, double dropout) {
    Ops tf = ctx.tf();
    Initializer init = Initializer.fanIn(1.0);
    if (kind == ExpertKind.GATED_GELU) {
      Operand<T> wi0 = ctx.store().get(prefix + "/wi_0/kernel", new long[] {experts, d, dFf}, init);
      Operand<T> wi1 = ctx.store().get(prefix + "/wi_1/kernel", new long[] {experts, d, dFf}, init);
      Operand<T> wo = ctx.store().get(prefix + "/wo/kernel", new long[] {experts, dFf, d}, init);
      Operand<T> gate = Activations.geluTanh(ctx, ctx.batchMatMul(x, wi0, false));
      Operand<T> h = Dropout.apply(ctx, tf.math.mul(gate, ctx.batchMatMul(x, wi1, false)), dropout);
      return ctx.batchMatMul(h, wo, false);
    }
    Operand<T> wi = ctx.store().get(prefix + "/wi/kernel", new long[] {experts, d, dFf}, init);
    Operand<T> bi = ctx.store().get(prefix + "/wi/bias", new long[] {experts, dFf}, Initializer.zeros());
    Operand<T> wo = ctx.store().get(prefix + "/wo/kernel", new long[] {experts, dFf, d}, init);
    Operand<T> bo = ctx.store().get(prefix + "/wo/bias", new long[] {experts, d}, Initializer.zeros());
    Operand<T> h = tf.math.add(ctx.batchMatMul(x, wi, false), tf.expandDims(bi, tf.constant(1)));
    h = Dropout.apply(ctx, Activations.geluTanh(ctx, h), dropout);
    return tf.math.add(ctx.batchMatMul(h, wo, false), tf.expandDims(bo, tf.constant(1)));
  }

  /**
   * Tokens per routing group: all tokens when they fit in {@code maxGroupSize}, otherwise the
   * largest divisor of the token count not above it (so every group has the same size).
   */
  public static int groupSize(int tokens, int maxGroupSize) {
    checkArgument(tokens >= 1, "no tokens to route");
    if (tokens <= maxGroupSize) {
      return tokens;
    }
    for (int s = maxGroupSize; s >= 1; s--) {
      if (tokens % s == 0) {
        return s;
      }
    }
    return 1;
  }

}
