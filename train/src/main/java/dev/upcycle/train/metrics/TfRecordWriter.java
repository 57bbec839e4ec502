package dev.upcycle.train.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * TFRecord framing: {@code u64 length (LE)}, {@code u32 masked CRC32C of the length bytes},
 * {@code data}, {@code u32 masked CRC32C of data}; mask = {@code rotr(crc, 15) + 0xa282ead8}.
 */
public final class TfRecordWriter {

  private final OutputStream out;

  public TfRecordWriter(OutputStream out) {
    this.out = out;
  }

  public void write(byte[] data) throws IOException {
    byte[] len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(data.length).array();
    out.write(len);
    out.write(le32(maskedCrc(len)));
    out.write(data);
    out.write(le32(maskedCrc(data)));
  }

  public void flush() throws IOException {
    out.flush();
  }

  /** The masked CRC32C TFRecord stores. */
  public static int maskedCrc(byte[] data) {
    CRC32C crc = new CRC32C();
    crc.update(data);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + 0xa282ead8;
  }

  private static byte[] le32(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
  }
}
