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

  /** Plain CRC32C of {@code data[off, off+len)}. */
  static int of(byte[] data, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(data, off, len);
    return (int) crc.getValue();
  }
}
