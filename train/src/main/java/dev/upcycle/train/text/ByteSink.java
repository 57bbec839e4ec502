package dev.upcycle.train.text;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer (package-private helper for byte-level normalisation). */
final class ByteSink {

  private byte[] buf = new byte[64];
  private int size;

  void add(byte b) {
    if (size == buf.length) {
      buf = Arrays.copyOf(buf, size * 2);
    }
    buf[size++] = b;
  }

  void add(byte[] bytes) {
    for (byte b : bytes) {
      add(b);
    }
  }

  int size() {
    return size;
  }

  boolean endsWith(byte[] suffix) {
    if (size < suffix.length) {
      return false;
    }
    for (int i = 0; i < suffix.length; i++) {
      if (buf[size - suffix.length + i] != suffix[i]) {
        return false;
      }
    }
    return true;
  }

  void truncate(int newSize) {
    size = newSize;
  }

  String utf8() {
    return new String(buf, 0, size, StandardCharsets.UTF_8);
  }
}
