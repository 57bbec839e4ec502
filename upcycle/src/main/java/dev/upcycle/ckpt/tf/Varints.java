package dev.upcycle.ckpt.tf;

import java.io.ByteArrayOutputStream;

/** LevelDB's little-endian base-128 varints and fixed-width little-endian integers. */
final class Varints {

  private Varints() {}

  static void write(ByteArrayOutputStream out, long value) {
    long v = value;
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  static void writeFixed32(ByteArrayOutputStream out, int value) {
    out.write(value);
    out.write(value >>> 8);
    out.write(value >>> 16);
    out.write(value >>> 24);
  }

  static int readFixed32(byte[] b, int pos) {
    return (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8 | (b[pos + 2] & 0xFF) << 16 | (b[pos + 3] & 0xFF) << 24;
  }

  /** A cursor over a byte array that decodes varints and reports where they run past the end. */
  static final class Cursor {
    private final byte[] buf;
    private int pos;
    private final int limit;

    Cursor(byte[] buf, int pos, int limit) {
      this.buf = buf;
      this.pos = pos;
      this.limit = limit;
    }

    int position() {
      return pos;
    }

    boolean hasRemaining() {
      return pos < limit;
    }

    /** Reads a varint of at most 64 bits; throws {@link IllegalStateException} when malformed. */
    long readVarint() {
      long result = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= limit) {
          throw new IllegalStateException("varint runs past the end at byte " + pos);
        }
        int b = buf[pos++] & 0xFF;
        result |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return result;
        }
      }
      throw new IllegalStateException("varint longer than 10 bytes at byte " + pos);
    }

    /** Reads a varint that must fit a non-negative int. */
    int readVarint32() {
      long v = readVarint();
      if (v < 0 || v > Integer.MAX_VALUE) {
        throw new IllegalStateException("length " + v + " out of range at byte " + pos);
      }
      return (int) v;
    }

    byte[] readBytes(int n) {
      if (n < 0 || n > limit - pos) {
        throw new IllegalStateException(n + " bytes run past the end at byte " + pos);
      }
      byte[] out = new byte[n];
      System.arraycopy(buf, pos, out, 0, n);
      pos += n;
      return out;
    }
  }
}
