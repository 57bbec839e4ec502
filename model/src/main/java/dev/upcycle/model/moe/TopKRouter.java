package dev.upcycle.model.moe;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.layers.Shapes;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gather;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.op.nn.TopK;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Top-K token choice with expert capacity {@code ceil(C·K·S/E)}: every token picks its K most
 * probable experts; slots of an expert's buffer are taken in priority order — all first choices
 * before all second choices, and within a choice rank tokens in sequence order, or, with Batch
 * Prioritized Routing, by descending top probability. A choice beyond capacity is dropped.
 * Combine weight = the expert's router probability. Load-balancing loss
 * {@code E² · mean_{g,e}(f_{g,e} · P_{g,e})} with f the share of tokens having e among their top K.
 */
public final class TopKRouter implements Router {

  private final RouterConfig config;

  public TopKRouter(RouterConfig config) {
    checkNotNull(config, "config");
    checkArgument(config.type() == RouterType.TOP_K, "not a top-K config: %s", config);
    this.config = config;
  }

  @Override
  public RouterConfig config() {
    return config;
  }

  @Override
  public <T extends TFloating> Routing<T> route(BuildContext<T> ctx, Operand<T> logits) {
    Ops tf = ctx.tf();
    long[] shape = Shapes.of(logits);
    int groups = (int) shape[0];
    int s = (int) shape[1];
    int experts = (int) shape[2];
    int k = config.k();
    int cap = config.capacity(s, experts);
    Operand<T> probs = tf.nn.softmax(logits); // [G, S, E]
    Operand<T> fixed = tf.stopGradient(probs);
    Operand<TInt32> choice = tf.nn.topK(fixed, tf.constant(k), new TopK.Options[0]).indices(); // [G, S, K]

    // Priority order of tokens within each group: [G, S]
    Operand<TInt32> order;
    if (config.batchPrioritized()) {
      Operand<T> top = tf.reduceMax(fixed, tf.constant(-1)); // [G, S]
      order = tf.nn.topK(top, tf.constant(s), new TopK.Options[0]).indices();
    } else {
      int[][] seq = new int[groups][s];
      for (int g = 0; g < groups; g++) {
        for (int i = 0; i < s; i++) {
          seq[g][i] = i;
        }
      }
      order = tf.constant(seq);
    }
    // choices of tokens in priority order, then all first choices before second choices: [G, K·S]
    Operand<TInt32> choiceOrdered = tf.gather(choice, order, tf.constant(1), Gather.batchDims(1L)); // [G, S, K]
    Operand<TInt32> items = tf.reshape(tf.linalg.transpose(choiceOrdered, tf.constant(new int[] {0, 2, 1})),
        tf.constant(new long[] {groups, (long) k * s}));
    Operand<TInt32> itemTokens = tf.reshape(tf.tile(tf.expandDims(order, tf.constant(1)), tf.constant(new int[] {1, k, 1})),
        tf.constant(new long[] {groups, (long) k * s}));
    Operand<TInt32> oneHot = tf.oneHot(items, tf.constant(experts), tf.constant(1), tf.constant(0)); // [G, K·S, E]
    Operand<TInt32> before = RouterMath.exclusiveCumsum(tf, oneHot); // [G, K·S, E] choices ahead in e's queue
    Operand<TInt32> position = tf.sum(tf.math.mul(before, oneHot), tf.constant(-1)); // [G, K·S]
    Operand<TInt32> kept = tf.dtypes.cast(tf.math.less(position, tf.constant(cap)), TInt32.class);
    // dropped choices all land in an extra slot `cap`, sliced off below
    Operand<TInt32> slot = tf.math.add(tf.math.mul(position, kept), tf.math.mul(tf.math.sub(tf.constant(1), kept),
        tf.constant(cap)));
    int[][] groupIds = new int[groups][k * s];
    for (int g = 0; g < groups; g++) {
      java.util.Arrays.fill(groupIds[g], g);
    }
    Operand<TInt32> scatterIndex = tf.stack(java.util.List.of(tf.constant(groupIds), items, slot), org.tensorflow.op.core.Stack.axis(-1L));
    Operand<TInt32> buffer = tf.scatterNd(scatterIndex, tf.math.add(itemTokens, tf.constant(1)),
        tf.constant(new int[] {groups, experts, cap + 1}));
    Operand<TInt32> occupant = tf.math.sub(tf.slice(buffer, tf.constant(new int[] {0, 0, 0}),
        tf.constant(new int[] {groups, experts, cap})), tf.constant(1)); // [G, E, C], -1 when empty
    Operand<T> filled = tf.stopGradient(tf.dtypes.cast(tf.math.greaterEqual(occupant, tf.constant(0)), ctx.dtype()));
    Operand<TInt32> tokenIndex = tf.math.maximum(occupant, tf.constant(0));
    Operand<T> combine = tf.math.mul(RouterMath.probsAtSlots(ctx, probs, tokenIndex), filled);
    if (config.renormalize()) {
      combine = RouterMath.renormalize(ctx, combine, filled, tokenIndex, s);
    }
    Operand<T> keptTotal = RouterMath.sumAll(tf, filled);
    Operand<T> dropped = tf.math.sub(ctx.constant(1.0), tf.math.div(keptTotal, ctx.constant((double) groups * s * k)));
    return new Routing<>(tokenIndex, combine, filled, loadBalance(ctx, probs, choice, experts), RouterMath.zLoss(ctx, logits),
        RouterMath.expertFraction(ctx, filled), dropped, cap);
  }

  /** E² · mean over groups and experts of (share of tokens choosing e) · (mean prob of e). */
  private static <T extends TFloating> Operand<T> loadBalance(BuildContext<T> ctx, Operand<T> probs,
      Operand<TInt32> choice, int experts) {
    Ops tf = ctx.tf();
    Operand<T> mask = tf.reduceMax(tf.oneHot(choice, tf.constant(experts), ctx.constant(1.0), ctx.constant(0.0)),
        tf.constant(2)); // [G, S, E]
    Operand<T> tokenShare = tf.math.mean(mask, tf.constant(1)); // [G, E]
    Operand<T> probShare = tf.math.mean(probs, tf.constant(1)); // [G, E]
    Operand<T> mean = tf.math.mean(tf.math.mul(tokenShare, probShare), tf.constant(new int[] {0, 1}));
    return tf.math.mul(mean, ctx.constant((double) experts * experts));
  }
}
