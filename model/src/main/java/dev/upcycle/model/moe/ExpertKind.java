package dev.upcycle.model.moe;

/** The MLP each expert runs: T5's gated GELU without biases, or ViT's GELU MLP with biases. */
public enum ExpertKind {
  /** {@code wo(gelu(x·wi_0) ⊙ x·wi_1)}: variables expert/{wi_0,wi_1,wo}/kernel. */
  GATED_GELU,
  /** {@code wo(gelu(x·wi + b)) + b}: variables expert/{wi,wo}/{kernel,bias}. */
  GELU_WITH_BIAS
}
