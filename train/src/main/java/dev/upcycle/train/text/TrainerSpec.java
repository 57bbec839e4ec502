package dev.upcycle.train.text;

import static com.google.common.base.Preconditions.checkNotNull;

/**
 * The fields of a SentencePiece {@code TrainerSpec} that encoding and decoding need. Defaults
 * are the proto's: UNIGRAM, unk 0, bos 1, eos 2, pad -1, no byte fallback, unk surface " ⁇ ".
 */
public record TrainerSpec(
    ModelType modelType,
    int vocabSize,
    int unkId,
    int bosId,
    int eosId,
    int padId,
    boolean byteFallback,
    String unkSurface) {

  public TrainerSpec {
    checkNotNull(modelType, "modelType");
    checkNotNull(unkSurface, "unkSurface");
  }
}
