package dev.upcycle.model;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

/**
 * Vision Transformer classifier: patch embedding, pre-LayerNorm blocks with biases, GELU MLP with
 * biases, a class token or global average pooling, a linear head.
 *
 * @param imageSize square image side in pixels
 * @param patchSize square patch side; must divide imageSize
 * @param channels input channels
 * @param numClasses classes of the head
 * @param dModel residual width
 * @param dFf MLP hidden width
 * @param numHeads attention heads (dModel must be divisible by it)
 * @param layers encoder blocks
 * @param pooling CLS token or global average pooling (GAP, the paper's choice)
 * @param dropout dropout rate while training
 */
public record VitConfig(
    int imageSize,
    int patchSize,
    int channels,
    int numClasses,
    int dModel,
    int dFf,
    int numHeads,
    int layers,
    Pooling pooling,
    double dropout) implements ArchitectureConfig {

  /** How the image representation is pooled before the head. */
  public enum Pooling { CLS, GAP }

  public VitConfig {
    checkArgument(patchSize >= 1 && imageSize >= patchSize && imageSize % patchSize == 0,
        "patchSize %s must divide imageSize %s", patchSize, imageSize);
    checkArgument(channels >= 1, "channels must be >= 1, got %s", channels);
    checkArgument(numClasses >= 2, "numClasses must be >= 2, got %s", numClasses);
    checkArgument(dModel >= 1 && numHeads >= 1 && dModel % numHeads == 0,
        "dModel %s must be divisible by numHeads %s", dModel, numHeads);
    checkArgument(dFf >= 1, "dFf must be >= 1, got %s", dFf);
    checkArgument(layers >= 1, "layers must be >= 1, got %s", layers);
    checkNotNull(pooling, "pooling");
    checkArgument(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got %s", dropout);
  }

  public int numPatches() {
    int side = imageSize / patchSize;
    return side * side;
  }

  /** Tokens per image: patches plus the class token when pooling is CLS. */
  public int sequenceLength() {
    return numPatches() + (pooling == Pooling.CLS ? 1 : 0);
  }

  public int dKv() {
    return dModel / numHeads;
  }

  public VitConfig withLayers(int value) {
    return new VitConfig(imageSize, patchSize, channels, numClasses, dModel, dFf, numHeads, value, pooling, dropout);
  }

  public VitConfig withPooling(Pooling value) {
    return new VitConfig(imageSize, patchSize, channels, numClasses, dModel, dFf, numHeads, layers, value, dropout);
  }
}
