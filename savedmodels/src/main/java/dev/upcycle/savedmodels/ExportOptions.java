package dev.upcycle.savedmodels;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.ModelSpec;
import java.util.Optional;

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
 * @param evalCapacityFactor the capacity factor of every capacity router in the serving graph
 *     (flaxformer's {@code eval_capacity_factor}); 0 = the trained model's own. Not the trained
 *     model: a smaller factor computes less and drops more tokens, so the outputs change
 */
public record ExportOptions(int batch, int length, int targetLength, long version, boolean overwrite,
    boolean verify, double evalCapacityFactor) {

  public ExportOptions {
    checkArgument(batch >= 1, "export batch must be >= 1, got %s", batch);
    checkArgument(length >= 2, "export length must be >= 2, got %s", length);
    checkArgument(targetLength >= 2, "export target length must be >= 2, got %s", targetLength);
    checkArgument(version >= 1, "version must be >= 1 (TF Serving loads numeric folders > 0), got %s", version);
    checkArgument(evalCapacityFactor >= 0 && Double.isFinite(evalCapacityFactor),
        "eval capacity factor must be > 0 (or 0: the trained model's own), got %s", evalCapacityFactor);
  }

  /** Without an eval capacity factor (the trained model's routers). */
  public ExportOptions(int batch, int length, int targetLength, long version, boolean overwrite, boolean verify) {
    this(batch, length, targetLength, version, overwrite, verify, 0);
  }

  /** Batch 8, length 128, target length 32, version 1, no overwrite, verified. */
  public static ExportOptions defaults() {
    return new ExportOptions(8, 128, 32, 1, false, true);
  }

  public ExportOptions withBatch(int newBatch) {
    return new ExportOptions(newBatch, length, targetLength, version, overwrite, verify, evalCapacityFactor);
  }

  public ExportOptions withLength(int newLength) {
    return new ExportOptions(batch, newLength, targetLength, version, overwrite, verify, evalCapacityFactor);
  }

  public ExportOptions withTargetLength(int newTargetLength) {
    return new ExportOptions(batch, length, newTargetLength, version, overwrite, verify, evalCapacityFactor);
  }

  public ExportOptions withVersion(long newVersion) {
    return new ExportOptions(batch, length, targetLength, newVersion, overwrite, verify, evalCapacityFactor);
  }

  public ExportOptions withOverwrite(boolean newOverwrite) {
    return new ExportOptions(batch, length, targetLength, version, newOverwrite, verify, evalCapacityFactor);
  }

  public ExportOptions withVerify(boolean newVerify) {
    return new ExportOptions(batch, length, targetLength, version, overwrite, newVerify, evalCapacityFactor);
  }

  public ExportOptions withEvalCapacityFactor(double value) {
    return new ExportOptions(batch, length, targetLength, version, overwrite, verify, value);
  }

  /**
   * The model the serving graph computes: {@code trained}, with {@link #evalCapacityFactor} on
   * every capacity router when it is set. Refuses it for a dense model, which has no router.
   */
  public ModelSpec servingSpec(ModelSpec trained) {
    if (evalCapacityFactor == 0) {
      return trained;
    }
    checkArgument(trained.moe().isPresent(), "eval capacity factor %s: the model is dense (no router to set it on)",
        evalCapacityFactor);
    return new ModelSpec(trained.arch(), Optional.of(trained.moe().get().withCapacityFactor(evalCapacityFactor)),
        trained.encoderLayout(), trained.decoderLayout());
  }
}
