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
 * @param dropless top-K only: no capacity, every (token, expert) choice is computed and none is
 *     dropped; the experts multiply exactly N·K rows (MegaBlocks). {@code capacityFactor} is then
 *     unused. Capacity routing ({@code false}) is the default.
 */
public record RouterConfig(
    RouterType type,
    double capacityFactor,
    int k,
    boolean batchPrioritized,
    boolean renormalize,
    double jitter,
    boolean dropless) {

  public RouterConfig {
    checkNotNull(type, "router type");
    checkArgument(capacityFactor > 0 && Double.isFinite(capacityFactor),
        "capacityFactor must be > 0, got %s", capacityFactor);
    checkArgument(k >= 1, "router k must be >= 1, got %s", k);
    checkArgument(type == RouterType.TOP_K || k == 1, "expert choice takes k = 1, got k = %s", k);
    checkArgument(type == RouterType.TOP_K || !batchPrioritized,
        "batch prioritized routing applies to top-K routers only");
    checkArgument(jitter >= 0 && jitter < 1, "jitter must be in [0, 1), got %s", jitter);
    checkArgument(type == RouterType.TOP_K || !dropless,
        "dropless routing applies to top-K routers only (expert choice fills a fixed capacity by definition)");
    checkArgument(!(dropless && batchPrioritized),
        "batch prioritized routing orders tokens competing for capacity; a dropless router has none: set one of them"
            + " to false");
  }

  /** A capacity-based router (not dropless). */
  public RouterConfig(RouterType type, double capacityFactor, int k, boolean batchPrioritized, boolean renormalize,
      double jitter) {
    this(type, capacityFactor, k, batchPrioritized, renormalize, jitter, false);
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
    return new RouterConfig(type, capacityFactor, k, batchPrioritized, value, jitter, dropless);
  }

  public RouterConfig withBatchPrioritized(boolean value) {
    return new RouterConfig(type, capacityFactor, k, value, renormalize, jitter, dropless);
  }

  public RouterConfig withCapacityFactor(double value) {
    return new RouterConfig(type, value, k, batchPrioritized, renormalize, jitter, dropless);
  }

  public RouterConfig withJitter(double value) {
    return new RouterConfig(type, capacityFactor, k, batchPrioritized, renormalize, value, dropless);
  }

  public RouterConfig withDropless(boolean value) {
    return new RouterConfig(type, capacityFactor, k, batchPrioritized, renormalize, jitter, value);
  }

  /**
   * Slots per expert for a group of {@code groupSize} tokens and {@code experts} experts (min 1).
   * Dropless: the group size, so every token fits in every expert it chooses and none is dropped.
   */
  public int capacity(int groupSize, int experts) {
    checkArgument(groupSize >= 1 && experts >= 1, "groupSize %s, experts %s", groupSize, experts);
    if (dropless) {
      return groupSize;
    }
    double raw = type == RouterType.EXPERT_CHOICE
        ? Math.rint(capacityFactor * groupSize / experts)
        : Math.ceil(capacityFactor * k * groupSize / experts);
    int cap = (int) Math.max(1, raw);
    return type == RouterType.EXPERT_CHOICE ? Math.min(cap, groupSize) : cap;
  }
}
