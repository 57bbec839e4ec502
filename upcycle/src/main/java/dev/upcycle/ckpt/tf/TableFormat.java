package dev.upcycle.ckpt.tf;

/**
 * Constants of the LevelDB table ("SSTable") layout that TF uses for a bundle's {@code .index}.
 *
 * <pre>
 * [data block 0][trailer] ... [data block n][trailer] [metaindex block][trailer] [index block][trailer] [footer]
 * block   = entries (varint shared, varint non_shared, varint value_len, key_delta, value)
 *           + fixed32 restart offsets + fixed32 restart count
 * trailer = 1 byte compression type (0 = none, 1 = Snappy) + fixed32 masked CRC32C of (block + type byte)
 * footer  = metaindex handle + index handle (varint64 offset, varint64 size each), zero-padded
 *           to 40 bytes, + fixed64 magic 0xdb4775248b80fb57                           (48 bytes)
 * </pre>
 */
final class TableFormat {

  static final long MAGIC = 0xdb4775248b80fb57L;
  static final int BLOCK_TRAILER_SIZE = 5;
  static final int FOOTER_SIZE = 2 * BlockHandle.MAX_ENCODED_LENGTH + 8;
  static final byte NO_COMPRESSION = 0;
  static final byte SNAPPY_COMPRESSION = 1;

  private TableFormat() {}
}
