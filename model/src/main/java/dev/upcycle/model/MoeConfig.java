package dev.upcycle.model;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

/**
 * The MoE settings of a model: expert count, one router per stack kind, token grouping, expert
 * dropout and the loss factors (DESIGN.md §5; defaults from T5X contrib/moe).
 *
 * @param numExperts E
 * @param encoderRouter router of bidirectional stacks (T5 encoder, ViT)
 * @param decoderRouter router of causal stacks (T5 decoder, LM); must not be expert choice
 * @param groupSize tokens routed together (4096 default, or fewer when the batch is smaller)
 * @param expertDropout dropout inside the experts' MLP while training
 * @param auxLossFactor load-balancing loss factor (0.01)
 * @param routerZLossFactor router z-loss factor (0.001)
 */
public record MoeConfig(
    int numExperts,
    RouterConfig encoderRouter,
    RouterConfig decoderRouter,
    int groupSize,
    double expertDropout,
    double auxLossFactor,
    double routerZLossFactor) {

  public static final int DEFAULT_GROUP_SIZE = 4096;
  public static final double DEFAULT_AUX_LOSS_FACTOR = 0.01;
  public static final double DEFAULT_ROUTER_Z_LOSS_FACTOR = 0.001;

  public MoeConfig {
    checkArgument(numExperts >= 1, "numExperts must be >= 1, got %s", numExperts);
    checkNotNull(encoderRouter, "encoderRouter");
    checkNotNull(decoderRouter, "decoderRouter");
    checkArgument(decoderRouter.type() != RouterType.EXPERT_CHOICE,
        "expert choice routing cannot be used in a causal (decoder) stack: it lets a token see which"
            + " later tokens an expert picked; use a top-K router for the decoder");
    checkArgument(encoderRouter.k() <= numExperts && decoderRouter.k() <= numExperts,
        "router k (%s, %s) exceeds numExperts %s", encoderRouter.k(), decoderRouter.k(), numExperts);
    checkArgument(groupSize >= 1, "groupSize must be >= 1, got %s", groupSize);
    checkArgument(expertDropout >= 0 && expertDropout < 1, "expertDropout must be in [0, 1), got %s", expertDropout);
    checkArgument(auxLossFactor >= 0, "auxLossFactor must be >= 0, got %s", auxLossFactor);
    checkArgument(routerZLossFactor >= 0, "routerZLossFactor must be >= 0, got %s", routerZLossFactor);
  }

  /** The paper's language recipe: EC C=2 in the encoder, top-2 C=1.25 in the decoder. */
  public static MoeConfig paperT5(int numExperts) {
    return new MoeConfig(numExperts, RouterConfig.expertChoice(2.0), RouterConfig.topK(2, 1.25),
        DEFAULT_GROUP_SIZE, 0.0, DEFAULT_AUX_LOSS_FACTOR, DEFAULT_ROUTER_Z_LOSS_FACTOR);
  }

  /** The paper's vision recipe: EC C=2 with combine-weight renormalisation. */
  public static MoeConfig paperVit(int numExperts) {
    return new MoeConfig(numExperts, RouterConfig.expertChoice(2.0).withRenormalize(true),
        RouterConfig.topK(2, 1.25), DEFAULT_GROUP_SIZE, 0.0, DEFAULT_AUX_LOSS_FACTOR,
        DEFAULT_ROUTER_Z_LOSS_FACTOR);
  }

  public MoeConfig withRouters(RouterConfig encoder, RouterConfig decoder) {
    return new MoeConfig(numExperts, encoder, decoder, groupSize, expertDropout, auxLossFactor, routerZLossFactor);
  }

  public MoeConfig withGroupSize(int value) {
    return new MoeConfig(numExperts, encoderRouter, decoderRouter, value, expertDropout, auxLossFactor, routerZLossFactor);
  }

  public MoeConfig withNumExperts(int value) {
    return new MoeConfig(value, encoderRouter, decoderRouter, groupSize, expertDropout, auxLossFactor, routerZLossFactor);
  }

  /**
   * Every capacity router (both stacks) with capacity factor {@code value}; dropless routers, which
   * have no capacity, are left as they are. The serving-time capacity factor of an export
   * (flaxformer's {@code eval_capacity_factor}).
   */
  public MoeConfig withCapacityFactor(double value) {
    return withRouters(encoderRouter.dropless() ? encoderRouter : encoderRouter.withCapacityFactor(value),
        decoderRouter.dropless() ? decoderRouter : decoderRouter.withCapacityFactor(value));
  }

  /** The router for a stack. */
  public RouterConfig router(boolean causal) {
    return causal ? decoderRouter : encoderRouter;
  }
}
