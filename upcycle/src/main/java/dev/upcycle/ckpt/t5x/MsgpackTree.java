package dev.upcycle.ckpt.t5x;

import dev.upcycle.ckpt.CheckpointFormatException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.ExtensionTypeHeader;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;

/**
 * Parses a T5X / flax msgpack file into plain Java values without loading array payloads: maps
 * become {@code LinkedHashMap<String, Object>}, arrays {@code List}, integers {@code Long} (or
 * {@code BigInteger}), floats {@code Float}/{@code Double}, strings, booleans and {@code null}.
 * Flax ndarray ext values (type 1, and type 3 for numpy scalars) become {@link InlineArray}: the
 * header is decoded, the payload is only located (file offset and length) and skipped.
 */
final class MsgpackTree {

  /** Flax's msgpack extension type for an ndarray. */
  static final byte EXT_NDARRAY = 1;
  /** Flax's msgpack extension type for a numpy scalar (same payload as an ndarray). */
  static final byte EXT_NPSCALAR = 3;

  /** An array whose C-order bytes are {@code length} bytes at {@code offset} in the file. */
  record InlineArray(String dtypeName, long[] shape, long offset, long length) {}

  /** A leaf this reader does not turn into a tensor (ext types other than 1 and 3, binary). */
  record Unsupported(String what) {}

  private static final int SKIP_BUFFER = 1 << 16;

  private final Path file;
  private final MessageUnpacker unpacker;
  private final byte[] scratch = new byte[SKIP_BUFFER];

  private MsgpackTree(Path file, MessageUnpacker unpacker) {
    this.file = file;
    this.unpacker = unpacker;
  }

  /** Parses the whole file; the top level must be a map. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> parse(Path file) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        MessageUnpacker u = MessagePack.newDefaultUnpacker(in)) {
      MsgpackTree tree = new MsgpackTree(file, u);
      Object root = tree.value("");
      if (!(root instanceof Map)) {
        throw new CheckpointFormatException(file, null,
            "the top level of the msgpack file is " + describe(root) + ", expected a map");
      }
      if (u.hasNext()) {
        throw new CheckpointFormatException(file, null,
            "unexpected bytes after the msgpack tree at byte " + u.getTotalReadBytes()
                + " (corrupt file?)");
      }
      return (Map<String, Object>) root;
    } catch (MessagePackException | java.io.EOFException e) {
      throw new CheckpointFormatException(file, null,
          "truncated or corrupt msgpack file: " + e.getMessage(), e);
    }
  }

  private Object value(String path) throws IOException {
    MessageFormat f;
    try {
      f = unpacker.getNextFormat();
    } catch (MessagePackException | java.io.EOFException e) {
      throw corrupt(path, e);
    }
    try {
      switch (f.getValueType()) {
        case NIL:
          unpacker.unpackNil();
          return null;
        case BOOLEAN:
          return unpacker.unpackBoolean();
        case INTEGER:
          if (f == MessageFormat.UINT64) {
            return unpacker.unpackBigInteger();
          }
          return unpacker.unpackLong();
        case FLOAT:
          return f == MessageFormat.FLOAT32 ? (Object) unpacker.unpackFloat() : (Object) unpacker.unpackDouble();
        case STRING:
          return unpacker.unpackString();
        case BINARY: {
          int len = unpacker.unpackBinaryHeader();
          skip(len);
          return new Unsupported("binary value of " + len + " bytes");
        }
        case ARRAY: {
          int n = unpacker.unpackArrayHeader();
          List<Object> list = new ArrayList<>(Math.min(n, 1024));
          for (int i = 0; i < n; i++) {
            list.add(value(path + "[" + i + "]"));
          }
          return list;
        }
        case MAP: {
          int n = unpacker.unpackMapHeader();
          Map<String, Object> map = new LinkedHashMap<>();
          for (int i = 0; i < n; i++) {
            String key = key(path);
            String child = path.isEmpty() ? key : path + "/" + key;
            if (map.containsKey(key)) {
              throw new CheckpointFormatException(file, child, "duplicate key in a msgpack map");
            }
            map.put(key, value(child));
          }
          return map;
        }
        case EXTENSION:
          return extension(path);
        default:
          throw new CheckpointFormatException(file, path, "unknown msgpack value type " + f);
      }
    } catch (MessagePackException | java.io.EOFException e) {
      throw corrupt(path, e);
    }
  }

  private String key(String path) throws IOException {
    MessageFormat f = unpacker.getNextFormat();
    switch (f.getValueType()) {
      case STRING:
        return unpacker.unpackString();
      case INTEGER:
        return Long.toString(unpacker.unpackLong());
      default:
        throw new CheckpointFormatException(file, path.isEmpty() ? null : path,
            "map key of type " + f.getValueType() + " (expected a string)");
    }
  }

  private Object extension(String path) throws IOException {
    ExtensionTypeHeader h = unpacker.unpackExtensionTypeHeader();
    long start = unpacker.getTotalReadBytes();
    if (h.getType() != EXT_NDARRAY && h.getType() != EXT_NPSCALAR) {
      skip(h.getLength());
      return new Unsupported("msgpack extension type " + h.getType());
    }
    // Payload: msgpack (shape tuple, dtype name, C-order bytes).
    int fields = unpacker.unpackArrayHeader();
    if (fields != 3) {
      throw new CheckpointFormatException(file, path,
          "flax ndarray payload has " + fields + " fields, expected 3 (shape, dtype, bytes)");
    }
    int rank = unpacker.unpackArrayHeader();
    long[] shape = new long[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = unpacker.unpackLong();
    }
    String dtype = unpacker.unpackString();
    MessageFormat df = unpacker.getNextFormat();
    int len = df.getValueType() == org.msgpack.value.ValueType.STRING
        ? unpacker.unpackRawStringHeader() : unpacker.unpackBinaryHeader();
    long offset = unpacker.getTotalReadBytes();
    skip(len);
    long used = unpacker.getTotalReadBytes() - start;
    if (used != h.getLength()) {
      throw new CheckpointFormatException(file, path,
          "flax ndarray extension declares " + h.getLength() + " bytes but its payload has " + used);
    }
    return new InlineArray(dtype, shape, offset, len);
  }

  private void skip(int len) throws IOException {
    int left = len;
    while (left > 0) {
      int n = Math.min(left, scratch.length);
      unpacker.readPayload(scratch, 0, n);
      left -= n;
    }
  }

  private CheckpointFormatException corrupt(String path, Exception e) {
    String why = e instanceof org.msgpack.core.MessageInsufficientBufferException
        || e instanceof java.io.EOFException ? "the file ends inside this value" : e.getMessage();
    return new CheckpointFormatException(file, path.isEmpty() ? null : path,
        "truncated or corrupt msgpack at byte " + unpacker.getTotalReadBytes() + ": " + why, e);
  }

  static String describe(Object v) {
    return v == null ? "nil" : v.getClass().getSimpleName() + " " + abbreviate(String.valueOf(v));
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }
}
