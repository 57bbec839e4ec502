package dev.upcycle.model;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Decoder-only language model in the T5 v1.1 style: causal self-attention with relative position
 * buckets, pre-RMSNorm, gated-GELU MLP, untied logits.
 */
public record LmConfig(
    int dModel,
    int dFf,
    int numHeads,
    int dKv,
    int layers,
    int vocabSize,
    int relativeBuckets,
    int relativeMaxDistance,
    double dropout) implements ArchitectureConfig {

  public LmConfig {
    checkArgument(dModel >= 1 && dFf >= 1 && numHeads >= 1 && dKv >= 1,
        "dModel %s, dFf %s, numHeads %s, dKv %s must all be >= 1", dModel, dFf, numHeads, dKv);
    checkArgument(layers >= 1, "layers must be >= 1, got %s", layers);
    checkArgument(vocabSize >= 2, "vocabSize must be >= 2, got %s", vocabSize);
    checkArgument(relativeBuckets >= 4 && relativeBuckets % 2 == 0,
        "relativeBuckets must be even and >= 4, got %s", relativeBuckets);
    checkArgument(relativeMaxDistance > relativeBuckets / 2,
        "relativeMaxDistance %s must exceed relativeBuckets/2", relativeMaxDistance);
    checkArgument(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got %s", dropout);
  }

  public int innerDim() {
    return numHeads * dKv;
  }
}
