package dev.upcycle.train.data;

import static com.google.common.base.Preconditions.checkNotNull;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Reads the records of one TFRecord file, plain or GZIP (detected by the magic bytes {@code 1f 8b}).
 *
 * <p>Framing of each record: {@code u64 LE length}, {@code u32 LE masked CRC32C(length bytes)},
 * {@code data[length]}, {@code u32 LE masked CRC32C(data)}. Both CRCs are checked. A bad CRC or a
 * truncated record raises an {@link IOException} whose message names the file, the record index
 * and the byte offset of the record (in the uncompressed stream for GZIP files).
 *
 * <p>Use either {@link #readNext()} (checked exceptions) or the {@link Iterator} view, which wraps
 * the same {@link IOException} in an {@link UncheckedIOException}.
 */
public final class TfRecordReader implements Iterator<byte[]>, Closeable {

  private static final int HEADER_BYTES = 12;
  private static final int MAX_RECORD_BYTES = Integer.MAX_VALUE - 16;
  private static final int FIRST_BUFFER = 1 << 20;

  private final Path file;
  private final InputStream in;
  private final Compression compression;
  private final byte[] header = new byte[HEADER_BYTES];
  private final byte[] footer = new byte[4];
  private long recordIndex;
  private long offset;
  private byte[] lookahead;
  private boolean finished;

  private TfRecordReader(Path file, InputStream in, Compression compression) {
    this.file = file;
    this.in = in;
    this.compression = compression;
  }

  /** Opens {@code file}; its compression is detected from the first two bytes. */
  public static TfRecordReader open(Path file) throws IOException {
    checkNotNull(file, "file");
    BufferedInputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    try {
      Compression compression = Compression.detect(raw);
      return new TfRecordReader(file, compression.decode(raw), compression);
    } catch (IOException e) {
      raw.close();
      throw new IOException(file + ": cannot open as a TFRecord file: " + e.getMessage(), e);
    }
  }

  /** The file being read. */
  public Path file() {
    return file;
  }

  /** The compression detected when the file was opened. */
  public Compression compression() {
    return compression;
  }

  /** Number of records returned so far (the index of the next record). */
  public long recordIndex() {
    return recordIndex;
  }

  /** Byte offset of the next record in the (uncompressed) record stream. */
  public long offset() {
    return offset;
  }

  /** The next record's data, or {@code null} at a clean end of file. */
  public byte[] readNext() throws IOException {
    if (lookahead != null) {
      byte[] r = lookahead;
      lookahead = null;
      return r;
    }
    if (finished) {
      return null;
    }
    int got = readFully(header, 0, HEADER_BYTES);
    if (got == 0) {
      finished = true;
      return null;
    }
    if (got < HEADER_BYTES) {
      throw error("truncated record header: " + got + " of " + HEADER_BYTES + " bytes");
    }
    long length = littleEndianLong(header, 0);
    int lengthCrc = littleEndianInt(header, 8);
    int expectedLengthCrc = Crc32c.masked(header, 0, 8);
    if (lengthCrc != expectedLengthCrc) {
      throw error(String.format(
          "length CRC mismatch (stored 0x%08x, computed 0x%08x); the file is corrupt",
          lengthCrc, expectedLengthCrc));
    }
    if (length < 0 || length > MAX_RECORD_BYTES) {
      throw error("record length " + Long.toUnsignedString(length) + " is too large");
    }
    byte[] data = readData((int) length);
    int footerGot = readFully(footer, 0, 4);
    if (footerGot < 4) {
      throw error("truncated record: data CRC missing (" + footerGot + " of 4 bytes)");
    }
    int dataCrc = littleEndianInt(footer, 0);
    int expectedDataCrc = Crc32c.masked(data, 0, data.length);
    if (dataCrc != expectedDataCrc) {
      throw error(String.format(
          "data CRC mismatch (stored 0x%08x, computed 0x%08x); the file is corrupt",
          dataCrc, expectedDataCrc));
    }
    offset += HEADER_BYTES + length + 4;
    recordIndex++;
    return data;
  }

  /**
   * The {@code length} data bytes of a record. The buffer grows with the bytes that arrive (from 1
   * MiB, doubling) rather than being allocated at the declared length: a corrupt length under a
   * matching CRC (or a hostile file) claiming 2 GiB costs what the file holds, not 2 GiB.
   */
  private byte[] readData(int length) throws IOException {
    byte[] data = new byte[Math.min(length, FIRST_BUFFER)];
    int got = 0;
    while (true) {
      got += readFully(data, got, data.length - got);
      if (got < data.length) {
        throw error("truncated record: " + got + " of " + length + " data bytes");
      }
      if (got == length) {
        return data;
      }
      data = Arrays.copyOf(data, (int) Math.min(length, 2L * data.length));
    }
  }

  /**
   * Skips {@code n} records (CRCs are still checked) and returns how many were skipped, fewer
   * only at the end of the file.
   */
  public long skip(long n) throws IOException {
    long skipped = 0;
    while (skipped < n && readNext() != null) {
      skipped++;
    }
    return skipped;
  }

  @Override
  public boolean hasNext() {
    if (lookahead != null) {
      return true;
    }
    try {
      lookahead = readNext();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return lookahead != null;
  }

  @Override
  public byte[] next() {
    if (!hasNext()) {
      throw new NoSuchElementException(file + ": no more records after " + recordIndex);
    }
    byte[] r = lookahead;
    lookahead = null;
    return r;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  private IOException error(String what) {
    String where = compression == Compression.GZIP ? " (in the uncompressed stream)" : "";
    return new IOException(String.format(
        "%s: record %d at byte offset %d%s: %s", file, recordIndex, offset, where, what));
  }

  private int readFully(byte[] buf, int off, int len) throws IOException {
    int total = 0;
    while (total < len) {
      int n;
      try {
        n = in.read(buf, off + total, len - total);
      } catch (IOException e) {
        throw error("read failed: " + e.getMessage());
      }
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  static long littleEndianLong(byte[] b, int off) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[off + i] & 0xffL);
    }
    return v;
  }

  static int littleEndianInt(byte[] b, int off) {
    return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16
        | (b[off + 3] & 0xff) << 24;
  }
}
