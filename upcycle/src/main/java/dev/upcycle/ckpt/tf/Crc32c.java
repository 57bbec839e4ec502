package dev.upcycle.ckpt.tf;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C as LevelDB tables and TF tensor bundles store it: "masked" so that a CRC of data that
 * itself holds CRCs is not trivially related to them.
 */
final class Crc32c {

  private static final int MASK_DELTA = 0xa282ead8;

  private Crc32c() {}

  /** {@code rotr(crc, 15) + 0xa282ead8}. */
  static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }

  /** Inverse of {@link #mask}. */
  static int unmask(int masked) {
    int rot = masked - MASK_DELTA;
    return (rot >>> 17) | (rot << 15);
  }

  /** Plain (unmasked) CRC32C of the remaining bytes; the buffer's position is not moved. */
  static int of(ByteBuffer data) {
    CRC32C crc = new CRC32C();
    crc.update(data.duplicate());
    return (int) crc.getValue();
  }

  /**
   * The CRC32C of {@code a || b} from {@code crcA = CRC32C(a)}, {@code crcB = CRC32C(b)} and
   * {@code lenB = b.length}, without the bytes: appending {@code lenB} zero bits to {@code a}'s
   * register is a linear map over GF(2), applied by repeated squaring of the one-zero-bit operator
   * (the method of zlib's {@code crc32_combine}, here for the Castagnoli polynomial).
   */
  static int combine(int crcA, int crcB, long lenB) {
    if (lenB <= 0) {
      return crcA;
    }
    int[] even = new int[32]; // operator for 2^k zero bits, alternating with odd
    int[] odd = new int[32];
    odd[0] = POLY_REFLECTED; // one zero bit
    int row = 1;
    for (int n = 1; n < 32; n++) {
      odd[n] = row;
      row <<= 1;
    }
    square(even, odd); // two zero bits
    square(odd, even); // four zero bits
    int crc = crcA;
    long len = lenB;
    do {
      square(even, odd); // first pass: one zero byte
      if ((len & 1) != 0) {
        crc = times(even, crc);
      }
      len >>>= 1;
      if (len == 0) {
        break;
      }
      square(odd, even);
      if ((len & 1) != 0) {
        crc = times(odd, crc);
      }
      len >>>= 1;
    } while (len != 0);
    return crc ^ crcB;
  }

  /** The CRC32C of {@code copies} back-to-back copies of a piece of {@code len} bytes whose CRC32C is {@code crc}. */
  static int repeat(int crc, long len, int copies) {
    int out = crc;
    for (int c = 1; c < copies; c++) {
      out = combine(out, crc, len);
    }
    return out;
  }

  private static final int POLY_REFLECTED = 0x82f63b78;

  private static int times(int[] mat, int vec) {
    int sum = 0;
    for (int i = 0; vec != 0; i++, vec >>>= 1) {
      if ((vec & 1) != 0) {
        sum ^= mat[i];
      }
    }
    return sum;
  }

  private static void square(int[] square, int[] mat) {
    for (int n = 0; n < 32; n++) {
      square[n] = times(mat, mat[n]);
    }
  }

  /** Plain CRC32C of {@code data[off, off+len)}. */
  static int of(byte[] data, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(data, off, len);
    return (int) crc.getValue();
  }
}
