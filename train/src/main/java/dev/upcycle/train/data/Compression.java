package dev.upcycle.train.data;

/** Compression of a TFRecord file, as TensorFlow's {@code compression_type} names it. */
public enum Compression {
  /** Plain framing, no compression ({@code ""}). */
  NONE,
  /** The whole file is one GZIP stream ({@code "GZIP"}). */
  GZIP
}
