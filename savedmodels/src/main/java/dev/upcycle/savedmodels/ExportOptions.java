package dev.upcycle.savedmodels;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * How to export.
 *
 * @param batch the batch the graph is built for (the model graphs have static shapes); requests
 *     of 1 … batch examples are padded to it inside the graph and the outputs cut back
 * @param length token models: the input sequence length the graph is built for (LM: a request holds
 *     up to {@code length - 1} tokens per row; T5: up to {@code length} input tokens); ignored for ViT
 * @param targetLength T5: decoder positions; greedy decoding emits up to {@code targetLength - 1}
 *     tokens and {@code score} takes targets of up to that many tokens; ignored otherwise
 * @param version the numeric version folder TF Serving loads ({@code <base>/<version>/})
 * @param overwrite replace an existing version folder
 * @param verify load the result with TensorFlow's SavedModel loader and run one request before
 *     publishing it
 */
public record ExportOptions(int batch, int length, int targetLength, long version, boolean overwrite,
    boolean verify) {

  public ExportOptions {
    checkArgument(batch >= 1, "export batch must be >= 1, got %s", batch);
    checkArgument(length >= 2, "export length must be >= 2, got %s", length);
    checkArgument(targetLength >= 2, "export target length must be >= 2, got %s", targetLength);
    checkArgument(version >= 1, "version must be >= 1 (TF Serving loads numeric folders > 0), got %s", version);
  }

  /** Batch 8, length 128, target length 32, version 1, no overwrite, verified. */
  public static ExportOptions defaults() {
    return new ExportOptions(8, 128, 32, 1, false, true);
  }

  public ExportOptions withBatch(int newBatch) {
    return new ExportOptions(newBatch, length, targetLength, version, overwrite, verify);
  }

  public ExportOptions withLength(int newLength) {
    return new ExportOptions(batch, newLength, targetLength, version, overwrite, verify);
  }

  public ExportOptions withTargetLength(int newTargetLength) {
    return new ExportOptions(batch, length, newTargetLength, version, overwrite, verify);
  }

  public ExportOptions withVersion(long newVersion) {
    return new ExportOptions(batch, length, targetLength, newVersion, overwrite, verify);
  }

  public ExportOptions withOverwrite(boolean newOverwrite) {
    return new ExportOptions(batch, length, targetLength, version, newOverwrite, verify);
  }

  public ExportOptions withVerify(boolean newVerify) {
    return new ExportOptions(batch, length, targetLength, version, overwrite, newVerify);
  }
}
