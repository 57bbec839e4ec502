package dev.upcycle.ckpt.t5x;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;

/** Builds T5X-style msgpack files and zarr chunks by hand, independently of the writer. */
final class TestMsgpack {

  private TestMsgpack() {}

  /** A msgpack extension value. */
  record Ext(byte type, byte[] payload) {}

  /** A flax ndarray ext (type 1 or 3): payload msgpack (shape, dtype, bytes). */
  static Ext ndarray(int type, long[] shape, String dtype, byte[] data) throws IOException {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    p.packArrayHeader(3);
    p.packArrayHeader(shape.length);
    for (long d : shape) {
      p.packLong(d);
    }
    p.packString(dtype);
    p.packBinaryHeader(data.length);
    p.writePayload(data);
    return new Ext((byte) type, p.toByteArray());
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  /** A tensorstore zarr spec as T5X writes it. */
  static Map<String, Object> zarrSpec(String dtype, String path, Map<String, Object> metadata) {
    return map("driver", "zarr", "dtype", dtype, "kvstore", map("driver", "file", "path", path),
        "metadata", metadata);
  }

  static byte[] bytes(Object tree) throws IOException {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    pack(p, tree);
    return p.toByteArray();
  }

  static void write(Path file, Object tree) throws IOException {
    Files.write(file, bytes(tree));
  }

  static void gzip(Path file, byte[] data) throws IOException {
    Files.createDirectories(file.getParent());
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(data);
    }
  }

  static byte[] gzipBytes(byte[] data) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(bos)) {
      out.write(data);
    }
    return bos.toByteArray();
  }

  @SuppressWarnings("unchecked")
  private static void pack(MessagePacker p, Object v) throws IOException {
    if (v == null) {
      p.packNil();
    } else if (v instanceof Map<?, ?> m) {
      p.packMapHeader(m.size());
      for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
        p.packString(e.getKey());
        pack(p, e.getValue());
      }
    } else if (v instanceof List<?> l) {
      p.packArrayHeader(l.size());
      for (Object o : l) {
        pack(p, o);
      }
    } else if (v instanceof long[] a) {
      p.packArrayHeader(a.length);
      for (long x : a) {
        p.packLong(x);
      }
    } else if (v instanceof String s) {
      p.packString(s);
    } else if (v instanceof Integer i) {
      p.packInt(i);
    } else if (v instanceof Long l) {
      p.packLong(l);
    } else if (v instanceof Double d) {
      p.packDouble(d);
    } else if (v instanceof Float f) {
      p.packFloat(f);
    } else if (v instanceof Boolean b) {
      p.packBoolean(b);
    } else if (v instanceof byte[] b) {
      p.packBinaryHeader(b.length);
      p.writePayload(b);
    } else if (v instanceof Ext e) {
      p.packExtensionTypeHeader(e.type(), e.payload().length);
      p.writePayload(e.payload());
    } else {
      throw new IllegalArgumentException("cannot pack " + v);
    }
  }
}
