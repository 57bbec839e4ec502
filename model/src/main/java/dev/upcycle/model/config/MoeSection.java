package dev.upcycle.model.config;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.SparseLayout;

/**
 * MoE options; {@code numExperts = 0} trains the dense model.
 *
 * @param numExperts E (0 = dense)
 * @param encoderLayout which encoder (or ViT / LM) layers are MoE: none, every_other, last_N, or 1,3,5
 * @param decoderLayout which T5 decoder layers are MoE
 * @param encoderRouter router of bidirectional stacks
 * @param decoderRouter router of causal stacks (must be top_k)
 * @param groupSize tokens routed together
 * @param expertDropout dropout inside experts while training
 * @param auxLossFactor load-balancing loss factor
 * @param routerZLossFactor router z-loss factor
 * @param expertShards expert parallelism: the experts of every MoE layer split over this many
 *     devices, expert e on shard e mod N (1 = none; absent in older records = 1). Where the experts
 *     run, not what the model is: {@link #toMoeConfig} and the model spec ignore it.
 */
public record MoeSection(int numExperts, String encoderLayout, String decoderLayout, RouterSection encoderRouter,
    RouterSection decoderRouter, int groupSize, double expertDropout, double auxLossFactor,
    @JsonProperty("router_z_loss_factor") double routerZLossFactor, Integer expertShards) {

  public MoeSection {
    checkArgument(numExperts >= 0, "moe.num_experts must be >= 0 (0 = dense), got %s", numExperts);
    expertShards = expertShards == null ? 1 : expertShards;
    checkArgument(expertShards >= 1, "moe.expert_shards must be >= 1 (1 = no expert parallelism), got %s",
        expertShards);
    checkArgument(expertShards == 1 || numExperts > 0,
        "moe.expert_shards %s needs an MoE model: moe.num_experts is 0 (dense)", expertShards);
    checkArgument(numExperts == 0 || numExperts % expertShards == 0,
        "moe.expert_shards %s must divide moe.num_experts %s (expert e lives on shard e mod %s, every shard holds"
            + " the same number of experts)", expertShards, numExperts, expertShards);
    checkNotNull(encoderLayout, "moe.encoder_layout");
    checkNotNull(decoderLayout, "moe.decoder_layout");
    checkNotNull(encoderRouter, "moe.encoder_router");
    checkNotNull(decoderRouter, "moe.decoder_router");
  }

  /** The paper's recipe: dense by default; when E > 0, every other layer, EC C=2 / top-2 C=1.25. */
  public static MoeSection defaults() {
    return new MoeSection(0, "every_other", "every_other",
        new RouterSection("expert_choice", 2.0, 1, false, false, 0.0),
        new RouterSection("top_k", 1.25, 2, false, false, 0.0),
        MoeConfig.DEFAULT_GROUP_SIZE, 0.0, MoeConfig.DEFAULT_AUX_LOSS_FACTOR, MoeConfig.DEFAULT_ROUTER_Z_LOSS_FACTOR, 1);
  }

  /** The section that gives back {@code moe} with these layouts ({@link SparseLayout#toString} form). */
  public static MoeSection of(MoeConfig moe, SparseLayout encoder, SparseLayout decoder) {
    return new MoeSection(moe.numExperts(), encoder.toString(), decoder.toString(),
        RouterSection.of(moe.encoderRouter()), RouterSection.of(moe.decoderRouter()), moe.groupSize(),
        moe.expertDropout(), moe.auxLossFactor(), moe.routerZLossFactor(), 1);
  }

  /** This section with {@code numExperts} experts (0 = dense) and the rest unchanged. */
  public MoeSection withNumExperts(int value) {
    return new MoeSection(value, encoderLayout, decoderLayout, encoderRouter, decoderRouter, groupSize,
        expertDropout, auxLossFactor, routerZLossFactor, value == 0 ? 1 : expertShards);
  }

  /** This section with {@code value} expert shards and the rest unchanged. */
  public MoeSection withExpertShards(int value) {
    return new MoeSection(numExperts, encoderLayout, decoderLayout, encoderRouter, decoderRouter, groupSize,
        expertDropout, auxLossFactor, routerZLossFactor, value);
  }

  public MoeConfig toMoeConfig() {
    return new MoeConfig(numExperts, router("moe.encoder_router", encoderRouter),
        router("moe.decoder_router", decoderRouter), groupSize, expertDropout, auxLossFactor, routerZLossFactor);
  }

  private static dev.upcycle.model.RouterConfig router(String key, RouterSection r) {
    try {
      return r.toRouterConfig();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
    }
  }
}
