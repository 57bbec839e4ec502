package dev.upcycle.train.data;

import java.util.zip.CRC32C;

/** The masked CRC32C that TFRecord framing stores after the length and after the data. */
final class Crc32c {

  private static final int MASK_DELTA = 0xa282ead8;

  private Crc32c() {}

  /** CRC32C of {@code len} bytes of {@code data} from {@code off}, masked as TFRecord does. */
  static int masked(byte[] data, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(data, off, len);
    return mask((int) crc.getValue());
  }

  /** {@code rotr(crc, 15) + 0xa282ead8}. */
  static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }
}
