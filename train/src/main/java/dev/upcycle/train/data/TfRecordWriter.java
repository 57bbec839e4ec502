package dev.upcycle.train.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import com.google.protobuf.MessageLite;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPOutputStream;

/**
 * Writes one new TFRecord file, plain or GZIP, in a folder that exists. It does nothing to make
 * the file appear atomically: writers of data sets stage their output folder with {@link
 * dev.upcycle.ckpt.AtomicFolder}, which publishes the finished files and removes them when a write
 * fails.
 */
public final class TfRecordWriter implements Closeable {

  private final Path target;
  private final OutputStream out;
  private final byte[] header = new byte[12];
  private final byte[] footer = new byte[4];
  private long records;
  private boolean closed;

  private TfRecordWriter(Path target, OutputStream out) {
    this.target = target;
    this.out = out;
  }

  /** Creates {@code target}, which must not exist yet, in its existing folder. */
  public static TfRecordWriter create(Path target, Compression compression) throws IOException {
    checkNotNull(target, "target");
    checkNotNull(compression, "compression");
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    checkArgument(dir != null && Files.isDirectory(dir),
        "folder of TFRecord output %s does not exist", target);
    OutputStream raw = new BufferedOutputStream(
        Files.newOutputStream(abs, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16);
    OutputStream out = compression == Compression.GZIP
        ? new BufferedOutputStream(new GZIPOutputStream(raw, 1 << 16), 1 << 16)
        : raw;
    return new TfRecordWriter(abs, out);
  }

  /** The file written. */
  public Path target() {
    return target;
  }

  /** Records written so far. */
  public long records() {
    return records;
  }

  /** Appends one record. */
  public void write(byte[] data) throws IOException {
    checkNotNull(data, "data");
    write(data, 0, data.length);
  }

  /** Appends one record made of {@code len} bytes of {@code data} from {@code off}. */
  public void write(byte[] data, int off, int len) throws IOException {
    checkState(!closed, "TFRecord writer for %s is closed", target);
    long length = len;
    for (int i = 0; i < 8; i++) {
      header[i] = (byte) (length >>> (8 * i));
    }
    putInt(header, 8, Crc32c.masked(header, 0, 8));
    putInt(footer, 0, Crc32c.masked(data, off, len));
    try {
      out.write(header);
      out.write(data, off, len);
      out.write(footer);
    } catch (IOException e) {
      throw new IOException(target + ": writing record " + records + " failed: " + e.getMessage(), e);
    }
    records++;
  }

  /** Appends one serialized protocol buffer (for example a {@code tf.train.Example}). */
  public void write(MessageLite message) throws IOException {
    write(message.toByteArray());
  }

  /** Finishes the file (flushes, ends the GZIP stream). */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      out.close();
    } catch (IOException e) {
      throw new IOException(target + ": finishing the file failed: " + e.getMessage(), e);
    }
  }

  private static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) v;
    b[off + 1] = (byte) (v >>> 8);
    b[off + 2] = (byte) (v >>> 16);
    b[off + 3] = (byte) (v >>> 24);
  }
}
