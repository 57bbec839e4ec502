package dev.upcycle.ckpt.tf;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.FileErrors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads every key/value of a LevelDB-format table (a bundle's {@code .index}), verifying each
 * block's CRC. Index files hold metadata only, so the entries are returned as a list.
 */
final class TableReader {

  /** One key/value pair, raw bytes. */
  record Entry(byte[] key, byte[] value) {}

  private final Path file;
  private final FileChannel channel;
  private final long fileSize;

  private TableReader(Path file, FileChannel channel) throws IOException {
    this.file = file;
    this.channel = channel;
    this.fileSize = channel.size();
  }

  /** All entries of the table at {@code file}, in stored (bytewise ascending) key order. */
  static List<Entry> readAll(Path file) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new CheckpointFormatException(file, null, "index file is missing");
    } catch (IOException e) {
      throw FileErrors.cannotRead(file, null, e);
    }
    try (ch) {
      return new TableReader(file, ch).entries();
    }
  }

  private List<Entry> entries() throws IOException {
    if (fileSize < TableFormat.FOOTER_SIZE) {
      throw problem("file has " + fileSize + " bytes, too short for a table footer ("
          + TableFormat.FOOTER_SIZE + " bytes): not a tensor bundle index or truncated");
    }
    byte[] footer = readAt(fileSize - TableFormat.FOOTER_SIZE, TableFormat.FOOTER_SIZE);
    long magic = ByteBuffer.wrap(footer, TableFormat.FOOTER_SIZE - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (magic != TableFormat.MAGIC) {
      throw problem(String.format("bad table magic number 0x%016x (expected 0x%016x): not a tensor bundle"
          + " index or truncated", magic, TableFormat.MAGIC));
    }
    Varints.Cursor c = new Varints.Cursor(footer, 0, TableFormat.FOOTER_SIZE - 8);
    BlockHandle indexHandle;
    try {
      c.readVarint(); // metaindex offset: the metaindex holds nothing a bundle needs
      c.readVarint(); // metaindex size
      indexHandle = new BlockHandle(c.readVarint(), c.readVarint());
    } catch (IllegalStateException e) {
      throw problem("malformed table footer: " + e.getMessage());
    }
    List<Entry> out = new ArrayList<>();
    for (Entry indexEntry : parseBlock(readBlock(indexHandle, "index block"), "index block")) {
      Varints.Cursor hc = new Varints.Cursor(indexEntry.value(), 0, indexEntry.value().length);
      BlockHandle dataHandle;
      try {
        dataHandle = new BlockHandle(hc.readVarint(), hc.readVarint());
      } catch (IllegalStateException e) {
        throw problem("malformed block handle in the index block: " + e.getMessage());
      }
      String what = "data block at byte " + dataHandle.offset();
      out.addAll(parseBlock(readBlock(dataHandle, what), what));
    }
    for (int i = 1; i < out.size(); i++) {
      if (Arrays.compareUnsigned(out.get(i - 1).key(), out.get(i).key()) >= 0) {
        throw problem("table keys are not in ascending order at entry " + i);
      }
    }
    return out;
  }

  /** Reads a block's contents and checks its trailer (compression type and masked CRC32C). */
  private byte[] readBlock(BlockHandle h, String what) throws IOException {
    long end = h.offset() + h.size() + TableFormat.BLOCK_TRAILER_SIZE;
    if (h.offset() < 0 || h.size() < 0 || h.size() > Integer.MAX_VALUE - 8 || end > fileSize || end < 0) {
      throw problem(what + " (" + h.size() + " bytes + trailer) lies outside the file of " + fileSize
          + " bytes: truncated or corrupt index");
    }
    int n = (int) h.size();
    byte[] raw = readAt(h.offset(), n + TableFormat.BLOCK_TRAILER_SIZE);
    byte type = raw[n];
    int stored = Varints.readFixed32(raw, n + 1);
    int actual = Crc32c.of(raw, 0, n + 1);
    if (Crc32c.unmask(stored) != actual) {
      throw problem(String.format("%s: block checksum mismatch (stored crc32c 0x%08x, computed 0x%08x):"
          + " the index file is corrupt", what, Crc32c.unmask(stored), actual));
    }
    if (type == TableFormat.SNAPPY_COMPRESSION) {
      try {
        return Snappy.uncompress(Arrays.copyOf(raw, n));
      } catch (IllegalStateException e) {
        throw problem(what + ": bad Snappy-compressed block: " + e.getMessage());
      }
    }
    if (type != TableFormat.NO_COMPRESSION) {
      throw problem(what + " uses compression type " + (type & 0xFF)
          + "; only 0 (none) and 1 (Snappy), which TF writes, are supported");
    }
    return Arrays.copyOf(raw, n);
  }

  private List<Entry> parseBlock(byte[] block, String what) throws CheckpointFormatException {
    if (block.length < 4) {
      throw problem(what + " has " + block.length + " bytes, too short for a restart count");
    }
    long numRestarts = Integer.toUnsignedLong(Varints.readFixed32(block, block.length - 4));
    long restartsOffset = block.length - 4 - 4 * numRestarts;
    if (numRestarts == 0 && block.length > 4 || restartsOffset < 0) {
      throw problem(what + ": bad restart count " + numRestarts + " for " + block.length + " bytes");
    }
    List<Entry> out = new ArrayList<>();
    Varints.Cursor c = new Varints.Cursor(block, 0, (int) restartsOffset);
    byte[] prev = new byte[0];
    try {
      while (c.hasRemaining()) {
        int shared = c.readVarint32();
        int nonShared = c.readVarint32();
        int valueLength = c.readVarint32();
        if (shared > prev.length) {
          throw new IllegalStateException("entry shares " + shared + " bytes with a previous key of "
              + prev.length + " bytes");
        }
        byte[] delta = c.readBytes(nonShared);
        byte[] key = Arrays.copyOf(prev, shared + nonShared);
        System.arraycopy(delta, 0, key, shared, nonShared);
        out.add(new Entry(key, c.readBytes(valueLength)));
        prev = key;
      }
    } catch (IllegalStateException e) {
      throw problem(what + ": malformed entry: " + e.getMessage());
    }
    return out;
  }

  private byte[] readAt(long position, int n) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(n);
    long pos = position;
    while (buf.hasRemaining()) {
      int r = channel.read(buf, pos);
      if (r < 0) {
        throw problem("unexpected end of file at byte " + pos);
      }
      pos += r;
    }
    return buf.array();
  }

  private CheckpointFormatException problem(String message) {
    return new CheckpointFormatException(file, null, message);
  }
}
