package dev.upcycle.model.config;

import static com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import java.util.Locale;

/**
 * One stack's router in the config.
 *
 * @param type {@code expert_choice} or {@code top_k}
 * @param capacityFactor C
 * @param k experts per token (top_k; 1 for expert_choice)
 * @param batchPrioritized Batch Prioritized Routing (top_k only)
 * @param renormalize renormalise each token's combine weights
 * @param jitter router input jitter while training (0 = off)
 * @param dropless top_k only: compute every choice, no capacity and no drops; {@code true}, or null
 *     (absent, the default: capacity routing), so configs and specs of capacity routers read and
 *     write as before
 */
public record RouterSection(String type, double capacityFactor, int k, boolean batchPrioritized, boolean renormalize,
    double jitter, @JsonInclude(JsonInclude.Include.NON_NULL) Boolean dropless) {

  public RouterSection {
    checkArgument(type != null, "router type is missing: expected expert_choice or top_k");
    routerType(type);
    dropless = Boolean.TRUE.equals(dropless) ? Boolean.TRUE : null;
  }

  /** A capacity-based router section (not dropless). */
  public RouterSection(String type, double capacityFactor, int k, boolean batchPrioritized, boolean renormalize,
      double jitter) {
    this(type, capacityFactor, k, batchPrioritized, renormalize, jitter, null);
  }

  /** The router type a config spells {@code expert_choice} / {@code ec} or {@code top_k} / {@code topk} / {@code token_choice}. */
  public static RouterType routerType(String type) {
    return switch (type.trim().toLowerCase(Locale.ROOT)) {
      case "expert_choice", "ec" -> RouterType.EXPERT_CHOICE;
      case "top_k", "topk", "token_choice" -> RouterType.TOP_K;
      default -> throw new IllegalArgumentException("unknown router type '" + type + "': expected expert_choice or top_k");
    };
  }

  /** The section of a router config ({@code expert_choice} / {@code top_k}). */
  public static RouterSection of(RouterConfig r) {
    return new RouterSection(typeName(r.type()), r.capacityFactor(), r.k(), r.batchPrioritized(), r.renormalize(),
        r.jitter(), r.dropless() ? Boolean.TRUE : null);
  }

  /** How a config spells a router type: {@code expert_choice} or {@code top_k}. */
  public static String typeName(RouterType type) {
    return type == RouterType.EXPERT_CHOICE ? "expert_choice" : "top_k";
  }

  /** {@code dropless} read as a flag (absent = false). */
  public boolean droplessEnabled() {
    return Boolean.TRUE.equals(dropless);
  }

  public RouterConfig toRouterConfig() {
    return new RouterConfig(routerType(type), capacityFactor, k, batchPrioritized, renormalize, jitter,
        droplessEnabled());
  }
}
