package dev.upcycle.train.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** Compression of a TFRecord file, as TensorFlow's {@code compression_type} names it. */
public enum Compression {
  /** Plain framing, no compression ({@code ""}). */
  NONE,
  /** The whole file is one GZIP stream ({@code "GZIP"}). */
  GZIP;

  /** GZIP when {@code in} starts with the gzip magic {@code 1f 8b}, else NONE; {@code in} is reset to its start. */
  public static Compression detect(BufferedInputStream in) throws IOException {
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    return b0 == 0x1f && b1 == 0x8b ? GZIP : NONE;
  }

  /** The bytes of {@code raw} with this compression undone. */
  public InputStream decode(InputStream raw) throws IOException {
    return this == GZIP ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
  }
}
