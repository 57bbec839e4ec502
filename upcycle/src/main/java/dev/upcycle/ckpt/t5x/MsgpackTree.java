package dev.upcycle.ckpt.t5x;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.FileErrors;
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
 * header is decoded, the payload is only located (file offset and length) and skipped. Other
 * extension types and binary values become {@link Unsupported}, for the reader to name. Maps and
 * arrays nest at most {@link #MAX_NESTING_DEPTH} deep: a deeper file is refused before the parser's
 * recursion could exhaust the stack.
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

  /**
   * Deepest nesting of maps and arrays accepted. A T5X tree nests a dozen levels (optimizer, state,
   * param_states, the module path, a tensorstore spec inside it); a corrupt or hostile file that
   * nests thousands of arrays would otherwise end the parse with a {@link StackOverflowError}.
   */
  static final int MAX_NESTING_DEPTH = 128;

  private static final int SKIP_BUFFER = 1 << 16;

  private final Path file;
  private final MessageUnpacker unpacker;
  private final byte[] scratch = new byte[SKIP_BUFFER];

  private MsgpackTree(Path file, MessageUnpacker unpacker) {
    this.file = file;
    this.unpacker = unpacker;
  }

  /**
   * Parses the whole file {@code read}, named {@code file} in errors (the path the user gave, when
   * {@code read} is its real path); the top level must be a map.
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> parse(Path read, Path file) throws IOException {
    InputStream stream;
    try {
      stream = Files.newInputStream(read);
    } catch (IOException e) {
      throw FileErrors.cannotRead(file, null, e);
    }
    try (InputStream in = new BufferedInputStream(stream, 1 << 16);
        MessageUnpacker u = MessagePack.newDefaultUnpacker(in)) {
      if (!u.hasNext()) {
        throw new CheckpointFormatException(file, null, "the msgpack file is empty (0 bytes)");
      }
      MsgpackTree tree = new MsgpackTree(file, u);
      Object root = tree.value("", 0);
      if (!(root instanceof Map)) {
        throw new CheckpointFormatException(file, null,
            "the top level of the msgpack file is " + describe(root) + ", expected a map (a T5X or flax"
                + " checkpoint is a map of its tree)");
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

  private Object value(String path, int depth) throws IOException {
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
          checkDepth(path, depth);
          int n = unpacker.unpackArrayHeader();
          List<Object> list = new ArrayList<>(Math.min(n, 1024));
          for (int i = 0; i < n; i++) {
            list.add(value(path + "[" + i + "]", depth + 1));
          }
          return list;
        }
        case MAP: {
          checkDepth(path, depth);
          int n = unpacker.unpackMapHeader();
          Map<String, Object> map = new LinkedHashMap<>();
          for (int i = 0; i < n; i++) {
            String key = key(path);
            String child = path.isEmpty() ? key : path + "/" + key;
            if (map.containsKey(key)) {
              throw new CheckpointFormatException(file, child, "duplicate key in a msgpack map");
            }
            map.put(key, value(child, depth + 1));
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

  private void checkDepth(String path, int depth) throws CheckpointFormatException {
    if (depth >= MAX_NESTING_DEPTH) {
      throw new CheckpointFormatException(file, path.isEmpty() ? null : abbreviate(path),
          "maps and arrays nest more than " + MAX_NESTING_DEPTH + " deep at byte " + unpacker.getTotalReadBytes()
              + " (the limit of this reader; a T5X or flax tree nests a dozen levels): corrupt file?");
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
      return new Unsupported("msgpack extension type " + h.getType() + " of " + h.getLength()
          + " bytes (flax writes type " + EXT_NDARRAY + " for arrays and " + EXT_NPSCALAR + " for numpy scalars)");
    }
    // Payload: msgpack (shape tuple, dtype name, C-order bytes).
    int fields = unpacker.unpackArrayHeader();
    if (fields != 3) {
      throw new CheckpointFormatException(file, path,
          "flax ndarray payload has " + fields + " fields, expected 3 (shape, dtype, bytes)");
    }
    int rank = unpacker.unpackArrayHeader();
    if (rank > h.getLength()) { // each dimension takes at least one byte of the payload
      throw new CheckpointFormatException(file, path, "flax ndarray shape of rank " + rank
          + " does not fit its " + h.getLength() + "-byte payload (corrupt file?)");
    }
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

  /** A parsed value in msgpack's words: {@code an array [1, 2, 3]}, {@code a string 'x'}, {@code nil}. */
  static String describe(Object v) {
    String kind;
    if (v == null) {
      return "nil";
    } else if (v instanceof List) {
      kind = "an array";
    } else if (v instanceof Map) {
      kind = "a map";
    } else if (v instanceof String) {
      return "a string '" + abbreviate((String) v) + "'";
    } else if (v instanceof Number) {
      kind = "a number";
    } else if (v instanceof Boolean) {
      kind = "a boolean";
    } else if (v instanceof Unsupported u) {
      return u.what();
    } else if (v instanceof InlineArray a) {
      return "a flax array " + a.dtypeName() + java.util.Arrays.toString(a.shape());
    } else {
      kind = v.getClass().getSimpleName();
    }
    return kind + " " + abbreviate(String.valueOf(v));
  }

  static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }
}
