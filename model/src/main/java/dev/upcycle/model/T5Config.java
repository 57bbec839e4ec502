package dev.upcycle.model;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * T5 v1.1 encoder-decoder: pre-RMSNorm blocks, gated-GELU MLP, relative position buckets, no
 * biases, untied {@code logits_dense} (PAPER.md §5).
 *
 * @param dModel residual width d
 * @param dFf MLP hidden width
 * @param numHeads attention heads
 * @param dKv width per head
 * @param encoderLayers layers in the encoder stack
 * @param decoderLayers layers in the decoder stack
 * @param vocabSize vocabulary size (token embedding rows and logits)
 * @param relativeBuckets relative position buckets (32)
 * @param relativeMaxDistance distance where the last bucket starts (128)
 * @param dropout dropout rate while training
 */
public record T5Config(
    int dModel,
    int dFf,
    int numHeads,
    int dKv,
    int encoderLayers,
    int decoderLayers,
    int vocabSize,
    int relativeBuckets,
    int relativeMaxDistance,
    double dropout) implements ArchitectureConfig {

  public T5Config {
    checkArgument(dModel >= 1, "dModel must be >= 1, got %s", dModel);
    checkArgument(dFf >= 1, "dFf must be >= 1, got %s", dFf);
    checkArgument(numHeads >= 1, "numHeads must be >= 1, got %s", numHeads);
    checkArgument(dKv >= 1, "dKv must be >= 1, got %s", dKv);
    checkArgument(encoderLayers >= 1, "encoderLayers must be >= 1, got %s", encoderLayers);
    checkArgument(decoderLayers >= 1, "decoderLayers must be >= 1, got %s", decoderLayers);
    checkArgument(vocabSize >= 2, "vocabSize must be >= 2, got %s", vocabSize);
    checkArgument(relativeBuckets >= 4 && relativeBuckets % 2 == 0,
        "relativeBuckets must be even and >= 4, got %s", relativeBuckets);
    checkArgument(relativeMaxDistance > relativeBuckets / 2,
        "relativeMaxDistance %s must exceed relativeBuckets/2 = %s", relativeMaxDistance, relativeBuckets / 2);
    checkArgument(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got %s", dropout);
  }

  public static final int T5_VOCAB = 32128;

  /** T5 v1.1 sizes with 32 buckets, max distance 128 and no dropout. */
  public static T5Config v11(int dModel, int dFf, int heads, int layers, int vocab) {
    return new T5Config(dModel, dFf, heads, 64, layers, layers, vocab, 32, 128, 0.0);
  }

  public T5Config withVocabSize(int value) {
    return new T5Config(dModel, dFf, numHeads, dKv, encoderLayers, decoderLayers, value,
        relativeBuckets, relativeMaxDistance, dropout);
  }

  public T5Config withDropout(double value) {
    return new T5Config(dModel, dFf, numHeads, dKv, encoderLayers, decoderLayers, vocabSize,
        relativeBuckets, relativeMaxDistance, value);
  }

  public T5Config withLayers(int encoder, int decoder) {
    return new T5Config(dModel, dFf, numHeads, dKv, encoder, decoder, vocabSize,
        relativeBuckets, relativeMaxDistance, dropout);
  }

  /** Query/key/value width: heads × dKv. */
  public int innerDim() {
    return numHeads * dKv;
  }
}
