package dev.upcycle.ckpt.tf;

import java.io.ByteArrayOutputStream;

/** Where a block sits in a table file: byte offset and size (excluding the 5-byte trailer). */
record BlockHandle(long offset, long size) {

  /** The most bytes one handle takes: two varint64s. */
  static final int MAX_ENCODED_LENGTH = 20;

  void encodeTo(ByteArrayOutputStream out) {
    Varints.write(out, offset);
    Varints.write(out, size);
  }

  byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(MAX_ENCODED_LENGTH);
    encodeTo(out);
    return out.toByteArray();
  }
}
