package dev.upcycle.model.config;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;

/**
 * A whole {@link ModelSpec} as the two configuration sections a train config has, {@code model}
 * (always explicit, never a preset name) and {@code moe}: the JSON form every artifact records
 * (provenance {@code model}), that {@code train}, {@code eval} and {@code export} start from.
 *
 * <p>JSON: {@code {"model": {"t5"|"vit"|"lm": {...}}, "moe": {"num_experts": E, "encoder_layout": ...}}},
 * snake_case keys as in {@code docs/train-config.md}.
 *
 * @param model the dense architecture
 * @param moe the MoE settings and layouts ({@code num_experts} 0 = dense)
 */
public record SpecConfig(ModelSection model, MoeSection moe) {

  public SpecConfig {
    checkNotNull(model, "model");
    checkNotNull(moe, "moe");
    spec(model, moe); // validates layouts against layer counts, routers against the stacks
  }

  /** The sections of a spec; {@code of(s).spec()} equals {@code s}. */
  public static SpecConfig of(ModelSpec spec) {
    checkNotNull(spec, "spec");
    MoeSection moe = spec.moe()
        .map(m -> MoeSection.of(m, spec.encoderLayout(), spec.decoderLayout()))
        .orElse(MoeSection.defaults());
    return new SpecConfig(ModelSection.of(spec.arch()), moe);
  }

  /** The spec these sections describe. */
  public ModelSpec spec() {
    return spec(model, moe);
  }

  /** As a JSON tree. */
  public ObjectNode toTree() {
    return ConfigJson.MAPPER.valueToTree(this);
  }

  /** From a JSON tree; a missing or invalid key is an {@link IllegalArgumentException} naming it. */
  public static SpecConfig fromTree(JsonNode tree) {
    checkArgument(tree != null && tree.isObject(), "model spec: expected a JSON object with model and moe");
    try {
      return ConfigJson.MAPPER.treeToValue(tree, SpecConfig.class);
    } catch (ValueInstantiationException e) {
      Throwable c = e.getCause();
      throw new IllegalArgumentException("model spec: " + (c != null ? c.getMessage() : e.getOriginalMessage()), e);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("model spec: " + e.getOriginalMessage(), e);
    }
  }

  /** The spec of a model section and an MoE section (num_experts 0 = dense). */
  public static ModelSpec spec(ModelSection model, MoeSection moe) {
    if (moe.numExperts() == 0) {
      return ModelSpec.dense(model.arch());
    }
    SparseLayout enc = SparseLayout.parse(moe.encoderLayout());
    SparseLayout dec = model.arch() instanceof T5Config ? SparseLayout.parse(moe.decoderLayout()) : SparseLayout.DENSE;
    return ModelSpec.sparse(model.arch(), moe.toMoeConfig(), enc, dec);
  }
}
