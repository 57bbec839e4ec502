package dev.upcycle.ckpt.hf;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Writes Hugging Face {@code flax_model.msgpack} files for tests, as {@code
 * flax.serialization.to_bytes} does: the parameter dict nested by the {@code /}-separated name
 * parts, each array an msgpack extension of type 1 whose payload is the msgpack array {@code
 * [shape, dtype name, C-order bytes]} (numpy scalars: type 3, same payload). Written from the
 * layout with msgpack-core, not through the reader.
 */
public final class FlaxMsgpackTestWriter {

  /** flax.serialization's ext type codes. */
  private static final byte NDARRAY = 1;
  private static final byte NPSCALAR = 3;

  private FlaxMsgpackTestWriter() {}

  /** numpy's {@code dtype.name} for a tensor. */
  public static String numpyName(TensorInfo info) {
    return switch (info.dtype()) {
      case FLOAT32 -> "float32";
      case FLOAT64 -> "float64";
      case FLOAT16 -> "float16";
      case BFLOAT16 -> "bfloat16";
      case INT32 -> "int32";
      case INT64 -> "int64";
      case INT16 -> "int16";
      case INT8 -> "int8";
      case UINT8 -> "uint8";
      case BOOL -> "bool";
      default -> throw new IllegalArgumentException("no numpy dtype for " + info);
    };
  }

  /** The file's bytes; rank-0 tensors become numpy scalars (ext 3) when {@code scalarsAsNumpy}. */
  public static byte[] bytes(List<RawTensor> tensors, boolean scalarsAsNumpy) throws IOException {
    Map<String, Object> root = new LinkedHashMap<>();
    for (RawTensor t : tensors) {
      String[] parts = t.name().split("/");
      Map<String, Object> m = root;
      for (int i = 0; i < parts.length - 1; i++) {
        @SuppressWarnings("unchecked")
        Map<String, Object> child = (Map<String, Object>) m.computeIfAbsent(parts[i], k -> new LinkedHashMap<>());
        m = child;
      }
      m.put(parts[parts.length - 1], t);
    }
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    pack(p, root, scalarsAsNumpy);
    return p.toByteArray();
  }

  public static void write(Path file, List<RawTensor> tensors) throws IOException {
    Files.write(file, bytes(tensors, false));
  }

  @SuppressWarnings("unchecked")
  private static void pack(MessageBufferPacker p, Object v, boolean scalarsAsNumpy) throws IOException {
    if (v instanceof Map<?, ?> m) {
      p.packMapHeader(m.size());
      for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
        p.packString(e.getKey());
        pack(p, e.getValue(), scalarsAsNumpy);
      }
      return;
    }
    RawTensor t = (RawTensor) v;
    MessageBufferPacker payload = MessagePack.newDefaultBufferPacker();
    payload.packArrayHeader(3);
    long[] shape = t.info().shape();
    payload.packArrayHeader(shape.length);
    for (long d : shape) {
      payload.packLong(d);
    }
    payload.packString(numpyName(t.info()));
    byte[] data = t.bytes();
    payload.packBinaryHeader(data.length);
    payload.writePayload(data);
    byte[] ext = payload.toByteArray();
    p.packExtensionTypeHeader(scalarsAsNumpy && shape.length == 0 ? NPSCALAR : NDARRAY, ext.length);
    p.writePayload(ext);
  }
}
