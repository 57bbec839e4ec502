package dev.upcycle.ckpt.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes Hugging Face safetensors files for tests, from the published layout (huggingface/safetensors
 * README and the Rust writer, {@code tensor.rs}), independently of {@link SafetensorsReader}: an
 * 8-byte little-endian header length, the compact JSON header padded with spaces to a multiple of
 * 8 bytes (as the Rust writer does, so the data stays aligned), then the tensors' bytes back to
 * back, in the Rust writer's order (larger element size first, then by name). Python's {@code
 * safetensors} package is not available here, so the format was checked against the published
 * spec and the byte-exact vectors of the Rust crate's tests ({@code SafetensorsReaderTest}).
 */
public final class SafetensorsTestWriter {

  private static final ObjectMapper JSON = new ObjectMapper();

  private SafetensorsTestWriter() {}

  /** The header spelling of a tensor's type ({@code "F32"}, ...; unreadable ones keep theirs). */
  public static String dtypeName(TensorInfo info) {
    return switch (info.dtype()) {
      case FLOAT32 -> "F32";
      case FLOAT64 -> "F64";
      case FLOAT16 -> "F16";
      case BFLOAT16 -> "BF16";
      case INT32 -> "I32";
      case INT64 -> "I64";
      case INT16 -> "I16";
      case INT8 -> "I8";
      case UINT8 -> "U8";
      case BOOL -> "BOOL";
      case UNREADABLE -> info.storedDtype();
      case STRING -> throw new IllegalArgumentException("safetensors has no string type: " + info);
    };
  }

  /** The whole file for {@code tensors} with optional {@code __metadata__}. */
  public static byte[] bytes(List<RawTensor> tensors, Map<String, String> metadata) throws IOException {
    List<RawTensor> order = new ArrayList<>(tensors);
    order.sort(Comparator.comparingInt((RawTensor t) -> -Math.max(1, t.info().dtype().byteSize()))
        .thenComparing(RawTensor::name));
    Map<String, Object> header = new LinkedHashMap<>();
    if (!metadata.isEmpty()) {
      header.put("__metadata__", new TreeMap<>(metadata));
    }
    long offset = 0;
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (RawTensor t : order) {
      byte[] b = t.bytes();
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("dtype", dtypeName(t.info()));
      entry.put("shape", t.info().shape());
      entry.put("data_offsets", new long[] {offset, offset + b.length});
      header.put(t.name(), entry);
      data.write(b);
      offset += b.length;
    }
    StringBuilder json = new StringBuilder(JSON.writeValueAsString(header));
    while (json.toString().getBytes(StandardCharsets.UTF_8).length % 8 != 0) {
      json.append(' ');
    }
    return file(json.toString().getBytes(StandardCharsets.UTF_8), data.toByteArray());
  }

  /** Writes {@code tensors} to {@code file} without metadata. */
  public static void write(Path file, List<RawTensor> tensors) throws IOException {
    write(file, tensors, Map.of());
  }

  public static void write(Path file, List<RawTensor> tensors, Map<String, String> metadata) throws IOException {
    Files.write(file, bytes(tensors, metadata));
  }

  /** A file from a hand-made header (no padding added) and data buffer, for defect tests. */
  public static byte[] file(byte[] header, byte[] data) {
    return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(header.length).put(header).put(data).array();
  }

  public static byte[] file(String header, byte[] data) {
    return file(header.getBytes(StandardCharsets.UTF_8), data);
  }

  /** The shard file name transformers writes: {@code model-00001-of-00003.safetensors}. */
  public static String shardName(int i, int n) {
    return String.format("model-%05d-of-%05d.safetensors", i + 1, n);
  }

  /**
   * Writes {@code shards} as {@code model-0000i-of-0000n.safetensors} in {@code dir} with their
   * index {@code model.safetensors.index.json}; returns the index file.
   */
  public static Path writeSharded(Path dir, List<List<RawTensor>> shards) throws IOException {
    Map<String, String> weightMap = new TreeMap<>();
    long total = 0;
    for (int i = 0; i < shards.size(); i++) {
      String name = shardName(i, shards.size());
      write(dir.resolve(name), shards.get(i), Map.of("format", "pt"));
      for (RawTensor t : shards.get(i)) {
        weightMap.put(t.name(), name);
        total += t.data().remaining();
      }
    }
    return writeIndex(dir, weightMap, total);
  }

  /** Writes {@code model.safetensors.index.json} as transformers does. */
  public static Path writeIndex(Path dir, Map<String, String> weightMap, long totalSize) throws IOException {
    Map<String, Object> index = new LinkedHashMap<>();
    index.put("metadata", Map.of("total_size", totalSize));
    index.put("weight_map", new TreeMap<>(weightMap));
    Path file = dir.resolve("model.safetensors.index.json");
    Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index));
    return file;
  }

  /** A tensor from raw little-endian bytes. */
  public static RawTensor raw(String name, DType dtype, long[] shape, byte[] bytes) {
    return new RawTensor(new TensorInfo(name, dtype, shape), ByteBuffer.wrap(bytes));
  }

  /** An unreadable-dtype tensor ({@code "F8_E4M3"}, ...) from raw bytes. */
  public static RawTensor unreadable(String name, String dtype, long[] shape, byte[] bytes) {
    return new RawTensor(TensorInfo.unreadable(name, dtype, shape), ByteBuffer.wrap(bytes));
  }
}
