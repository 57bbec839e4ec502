package dev.upcycle.model.moe;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.layers.Shapes;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Expert Choice (Zhou et al. 2022): each expert takes the {@code round(C·S/E)} tokens of the group
 * with the highest router probability for it; combine weight = that probability. Tokens may be
 * taken by several experts or by none. There is no load-balancing loss (it is 0).
 */
public final class ExpertChoiceRouter implements Router {

  private final RouterConfig config;

  public ExpertChoiceRouter(RouterConfig config) {
    checkNotNull(config, "config");
    checkArgument(config.type() == RouterType.EXPERT_CHOICE, "not an expert choice config: %s", config);
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
    int cap = config.capacity(s, experts);
    Operand<T> probs = tf.nn.softmax(logits); // [G, S, E]
    Operand<T> byExpert = tf.linalg.transpose(tf.stopGradient(probs), tf.constant(new int[] {0, 2, 1})); // [G, E, S]
    Operand<TInt32> tokenIndex = tf.nn.topK(byExpert, tf.constant(cap), new org.tensorflow.op.nn.TopK.Options[0])
        .indices(); // [G, E, C]
    // OnesLike has no registered gradient: keep it off the backward pass (renormalisation divides by it)
    Operand<T> filled = tf.stopGradient(tf.onesLike(tf.dtypes.cast(tokenIndex, ctx.dtype())));
    Operand<T> combine = RouterMath.probsAtSlots(ctx, probs, tokenIndex);
    if (config.renormalize()) {
      combine = RouterMath.renormalize(ctx, combine, filled, tokenIndex, s);
    }
    // tokens that no expert took
    long slots = (long) groups * experts * cap;
    Operand<TInt32> global = tf.reshape(RouterMath.globalTokenIndex(tf, tokenIndex, s), tf.constant(new long[] {slots}));
    Operand<T> takenCount = tf.math.unsortedSegmentSum(tf.reshape(filled, tf.constant(new long[] {slots})), global,
        tf.constant(groups * s));
    Operand<T> untaken = tf.dtypes.cast(tf.math.equal(takenCount, ctx.constant(0.0)), ctx.dtype());
    Operand<T> dropped = tf.math.mean(untaken, tf.constant(0));
    return new Routing<>(tokenIndex, combine, filled, ctx.constant(0.0), RouterMath.zLoss(ctx, logits),
        RouterMath.expertFraction(ctx, filled), dropped, cap);
  }
}
