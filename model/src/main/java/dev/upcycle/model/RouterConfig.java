package dev.upcycle.model;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

/**
 * Settings of one stack's router.
 *
 * @param type expert choice or top-K token choice
 * @param capacityFactor C: expert buffer size is {@code round(C·S/E)} (EC) or {@code ceil(C·K·S/E)}
 *     (top-K) for a group of S tokens
 * @param k experts per token (top-K only; 1 for expert choice)
 * @param batchPrioritized Batch Prioritized Routing: tokens with a higher top probability take
 *     buffer slots first (top-K only)
 * @param renormalize divide each token's combine weights by their sum (paper B.7; vision default)
 * @param jitter multiply router inputs by U[1-jitter, 1+jitter] while training (0 = off)
 */
public record RouterConfig(
    RouterType type,
    double capacityFactor,
    int k,
    boolean batchPrioritized,
    boolean renormalize,
    double jitter) {

  public RouterConfig {
    checkNotNull(type, "router type");
    checkArgument(capacityFactor > 0 && Double.isFinite(capacityFactor),
        "capacityFactor must be > 0, got %s", capacityFactor);
    checkArgument(k >= 1, "router k must be >= 1, got %s", k);
    checkArgument(type == RouterType.TOP_K || k == 1, "expert choice takes k = 1, got k = %s", k);
    checkArgument(type == RouterType.TOP_K || !batchPrioritized,
        "batch prioritized routing applies to top-K routers only");
    checkArgument(jitter >= 0 && jitter < 1, "jitter must be in [0, 1), got %s", jitter);
  }

  /** Expert Choice with capacity factor C (paper: C = 2 for encoders and ViT). */
  public static RouterConfig expertChoice(double capacityFactor) {
    return new RouterConfig(RouterType.EXPERT_CHOICE, capacityFactor, 1, false, false, 0);
  }

  /** Top-K token choice with capacity factor C, no BPR, no renormalisation. */
  public static RouterConfig topK(int k, double capacityFactor) {
    return new RouterConfig(RouterType.TOP_K, capacityFactor, k, false, false, 0);
  }

  public RouterConfig withRenormalize(boolean value) {
    return new RouterConfig(type, capacityFactor, k, batchPrioritized, value, jitter);
  }

  public RouterConfig withBatchPrioritized(boolean value) {
    return new RouterConfig(type, capacityFactor, k, value, renormalize, jitter);
  }

  public RouterConfig withCapacityFactor(double value) {
    return new RouterConfig(type, value, k, batchPrioritized, renormalize, jitter);
  }

  public RouterConfig withJitter(double value) {
    return new RouterConfig(type, capacityFactor, k, batchPrioritized, renormalize, value);
  }

  /** Slots per expert for a group of {@code groupSize} tokens and {@code experts} experts (min 1). */
  public int capacity(int groupSize, int experts) {
    checkArgument(groupSize >= 1 && experts >= 1, "groupSize %s, experts %s", groupSize, experts);
    double raw = type == RouterType.EXPERT_CHOICE
        ? Math.rint(capacityFactor * groupSize / experts)
        : Math.ceil(capacityFactor * k * groupSize / experts);
    int cap = (int) Math.max(1, raw);
    return type == RouterType.EXPERT_CHOICE ? Math.min(cap, groupSize) : cap;
  }
}
