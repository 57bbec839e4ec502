package dev.upcycle.model.arch;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * The static shape a graph is built for (one graph per shape, so XLA compiles once).
 *
 * @param batch examples per step
 * @param inputLength encoder / LM length (ignored by ViT)
 * @param targetLength decoder length (T5 only)
 */
public record BatchShape(int batch, int inputLength, int targetLength) {

  public BatchShape {
    checkArgument(batch >= 1, "batch must be >= 1, got %s", batch);
    checkArgument(inputLength >= 1, "inputLength must be >= 1, got %s", inputLength);
    checkArgument(targetLength >= 1, "targetLength must be >= 1, got %s", targetLength);
  }

  /** Tokens that go through the (encoder) MLPs per step. */
  public long tokens() {
    return (long) batch * inputLength;
  }
}
