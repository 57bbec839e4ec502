package dev.upcycle.ckpt.tf;

/**
 * Decompresses the raw Snappy format (no framing), which TF's table writer uses for index blocks
 * that shrink by more than 1/8. Layout: varint uncompressed length, then elements whose tag byte's
 * low 2 bits say literal (0), copy with 1-byte (1), 2-byte (2) or 4-byte (3) offset.
 */
final class Snappy {

  /** Bound on uncompressed / compressed bytes (the real one is 64 / 3). */
  private static final long MAX_EXPANSION = 32;

  private Snappy() {}

  /** Returns the uncompressed bytes; throws {@link IllegalStateException} describing malformed input. */
  static byte[] uncompress(byte[] in) {
    Varints.Cursor c = new Varints.Cursor(in, 0, in.length);
    long declared = c.readVarint();
    // No Snappy element expands more than 64 bytes from 3 (a copy with a 2-byte offset): a larger
    // declared length is corrupt, and is refused before it is allocated.
    if (declared < 0 || declared > Integer.MAX_VALUE - 8 || declared > MAX_EXPANSION * in.length) {
      throw new IllegalStateException("snappy: uncompressed length " + declared + " out of range for "
          + in.length + " compressed bytes");
    }
    byte[] out = new byte[(int) declared];
    int op = 0;
    int ip = c.position();
    while (ip < in.length) {
      int tag = in[ip++] & 0xFF;
      int len;
      int offset;
      switch (tag & 3) {
        case 0 -> {
          len = tag >>> 2;
          if (len >= 60) {
            int extra = len - 59;
            need(in, ip, extra);
            len = 0;
            for (int i = 0; i < extra; i++) {
              len |= (in[ip + i] & 0xFF) << (8 * i);
            }
            ip += extra;
          }
          len += 1;
          if (len <= 0 || len > in.length - ip || len > out.length - op) {
            throw new IllegalStateException("snappy: literal of " + len + " bytes overruns at input byte " + ip);
          }
          System.arraycopy(in, ip, out, op, len);
          ip += len;
          op += len;
          continue;
        }
        case 1 -> {
          need(in, ip, 1);
          len = 4 + ((tag >>> 2) & 7);
          offset = ((tag >>> 5) << 8) | (in[ip++] & 0xFF);
        }
        case 2 -> {
          need(in, ip, 2);
          len = 1 + (tag >>> 2);
          offset = (in[ip] & 0xFF) | (in[ip + 1] & 0xFF) << 8;
          ip += 2;
        }
        default -> {
          need(in, ip, 4);
          len = 1 + (tag >>> 2);
          offset = Varints.readFixed32(in, ip);
          ip += 4;
        }
      }
      if (offset <= 0 || offset > op || len > out.length - op) {
        throw new IllegalStateException("snappy: copy of " + len + " bytes from offset " + offset
            + " is invalid at output byte " + op);
      }
      for (int i = 0; i < len; i++) { // byte by byte: a copy may overlap its own output
        out[op + i] = out[op - offset + i];
      }
      op += len;
    }
    if (op != out.length) {
      throw new IllegalStateException("snappy: produced " + op + " bytes, header declared " + out.length);
    }
    return out;
  }

  private static void need(byte[] in, int ip, int n) {
    if (n > in.length - ip) {
      throw new IllegalStateException("snappy: element needs " + n + " more bytes at input byte " + ip);
    }
  }
}
