package dev.upcycle.ckpt.tf;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a LevelDB-format table (see {@link TableFormat}) with uncompressed blocks (TF writes
 * Snappy-compressed blocks where that saves space, but reads either). Keys must arrive in strictly ascending
 * bytewise order. The stream is not closed.
 */
final class TableWriter {

  static final int DEFAULT_BLOCK_SIZE = 4096;
  static final int DEFAULT_RESTART_INTERVAL = 16;

  private final OutputStream out;
  private final int blockSize;
  private final BlockBuilder dataBlock;
  private final BlockBuilder indexBlock = new BlockBuilder(1);
  private byte[] lastKey;
  private long offset;
  private boolean finished;

  TableWriter(OutputStream out, int blockSize, int restartInterval) {
    checkArgument(blockSize > 0, "blockSize %s must be positive", blockSize);
    this.out = out;
    this.blockSize = blockSize;
    this.dataBlock = new BlockBuilder(restartInterval);
  }

  void add(byte[] key, byte[] value) throws IOException {
    checkState(!finished, "table already finished");
    checkArgument(lastKey == null || Arrays.compareUnsigned(lastKey, key) < 0,
        "table keys must be strictly ascending: '%s' after '%s'", new String(key, StandardCharsets.UTF_8),
        lastKey == null ? "" : new String(lastKey, StandardCharsets.UTF_8));
    dataBlock.add(key, value);
    lastKey = key;
    if (dataBlock.sizeEstimate() >= blockSize) {
      flushDataBlock();
    }
  }

  /** Writes the last data block, an empty metaindex block, the index block and the footer. */
  void finish() throws IOException {
    checkState(!finished, "table already finished");
    finished = true;
    if (!dataBlock.isEmpty()) {
      flushDataBlock();
    }
    BlockHandle metaindex = writeBlock(new BlockBuilder(1).finish());
    BlockHandle index = writeBlock(indexBlock.finish());
    ByteArrayOutputStream footer = new ByteArrayOutputStream(TableFormat.FOOTER_SIZE);
    metaindex.encodeTo(footer);
    index.encodeTo(footer);
    while (footer.size() < 2 * BlockHandle.MAX_ENCODED_LENGTH) {
      footer.write(0);
    }
    Varints.writeFixed32(footer, (int) TableFormat.MAGIC);
    Varints.writeFixed32(footer, (int) (TableFormat.MAGIC >>> 32));
    out.write(footer.toByteArray());
    offset += footer.size();
  }

  private void flushDataBlock() throws IOException {
    BlockHandle h = writeBlock(dataBlock.finish());
    dataBlock.reset();
    // The block's last key is a valid separator: >= every key in it, < every later key.
    indexBlock.add(lastKey, h.encode());
  }

  private BlockHandle writeBlock(byte[] contents) throws IOException {
    byte[] withType = Arrays.copyOf(contents, contents.length + 1);
    withType[contents.length] = TableFormat.NO_COMPRESSION;
    ByteArrayOutputStream trailer = new ByteArrayOutputStream(TableFormat.BLOCK_TRAILER_SIZE);
    trailer.write(TableFormat.NO_COMPRESSION);
    Varints.writeFixed32(trailer, Crc32c.mask(Crc32c.of(withType, 0, withType.length)));
    out.write(contents);
    out.write(trailer.toByteArray());
    BlockHandle h = new BlockHandle(offset, contents.length);
    offset += contents.length + TableFormat.BLOCK_TRAILER_SIZE;
    return h;
  }

  /** Builds one block: prefix-compressed entries with a restart point every {@code interval} keys. */
  static final class BlockBuilder {
    private final int interval;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final List<Integer> restarts = new ArrayList<>();
    private byte[] last = new byte[0];
    private int counter;

    BlockBuilder(int interval) {
      checkArgument(interval >= 1, "restart interval %s must be >= 1", interval);
      this.interval = interval;
      reset();
    }

    void reset() {
      buffer.reset();
      restarts.clear();
      restarts.add(0);
      last = new byte[0];
      counter = 0;
    }

    boolean isEmpty() {
      return buffer.size() == 0;
    }

    int sizeEstimate() {
      return buffer.size() + 4 * restarts.size() + 4;
    }

    void add(byte[] key, byte[] value) {
      int shared = 0;
      if (counter < interval) {
        int max = Math.min(last.length, key.length);
        while (shared < max && last[shared] == key[shared]) {
          shared++;
        }
      } else {
        restarts.add(buffer.size());
        counter = 0;
      }
      Varints.write(buffer, shared);
      Varints.write(buffer, key.length - shared);
      Varints.write(buffer, value.length);
      buffer.write(key, shared, key.length - shared);
      buffer.write(value, 0, value.length);
      last = key;
      counter++;
    }

    byte[] finish() {
      for (int r : restarts) {
        Varints.writeFixed32(buffer, r);
      }
      Varints.writeFixed32(buffer, restarts.size());
      return buffer.toByteArray();
    }
  }
}
