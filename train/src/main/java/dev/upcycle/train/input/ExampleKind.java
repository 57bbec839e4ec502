package dev.upcycle.train.input;

/** What the records hold and which model inputs they become. */
public enum ExampleKind {
  /** int64 {@code inputs} / {@code targets} → T5 {@code inputs}, {@code decoder_inputs}, {@code targets}. */
  T5,
  /** int64 {@code targets} (or {@code inputs} when targets are empty) → LM {@code inputs}, {@code targets}. */
  LM,
  /** {@code image} bytes + int64 {@code label} → ViT {@code images} (scaled to [0, 1]), {@code labels}. */
  IMAGES
}
