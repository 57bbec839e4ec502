package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.SafetensorsTestWriter.raw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Single-file safetensors: the test writer against the Rust crate's published byte vectors, then
 * round trips through {@link SafetensorsReader}. Python's {@code safetensors} package cannot be
 * installed here, so interoperability rests on the published layout and those vectors.
 */
class SafetensorsReaderTest {

  @TempDir Path tmp;

  static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  static byte[] f32(float... v) {
    ByteBuffer b = le(v.length * 4);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  static byte[] shorts(int... v) {
    ByteBuffer b = le(v.length * 2);
    for (int x : v) {
      b.putShort((short) x);
    }
    return b.array();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] header(String json) {
    return le(8).putLong(json.length()).array();
  }

  /** The vectors of the Rust crate's tests {@code test_serialization}, {@code ..._forced_alignement}, {@code test_empty}. */
  @Test
  void testWriterMatchesTheRustCrateVectors() throws Exception {
    byte[] data = f32(0, 1, 2, 3, 4, 5);
    String h1 = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    assertEquals(64, h1.length());
    assertArrayEquals(concat(concat(header(h1), h1.getBytes(StandardCharsets.UTF_8)), data),
        SafetensorsTestWriter.bytes(List.of(raw("attn.0", DType.FLOAT32, new long[] {1, 2, 3}, data)), Map.of()));
    String h2 = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}" + " ".repeat(7);
    assertEquals(72, h2.length());
    assertArrayEquals(concat(concat(header(h2), h2.getBytes(StandardCharsets.UTF_8)), data),
        SafetensorsTestWriter.bytes(List.of(raw("attn0", DType.FLOAT32, new long[] {1, 1, 2, 3}, data)), Map.of()));
    String h3 = "{}      ";
    assertArrayEquals(concat(header(h3), h3.getBytes(StandardCharsets.UTF_8)), SafetensorsTestWriter.bytes(List.of(), Map.of()));
    String h4 = "{\"__metadata__\":{\"framework\":\"pt\"}}     ";
    assertEquals(40, h4.length());
    assertArrayEquals(concat(header(h4), h4.getBytes(StandardCharsets.UTF_8)),
        SafetensorsTestWriter.bytes(List.of(), Map.of("framework", "pt")));
  }

  /** The file of the Rust crate's doc example: header length '<' (60), I32 [2, 2] of zeros. */
  @Test
  void readsTheRustDocExample() throws Exception {
    String json = "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    byte[] file = concat(concat(new byte[] {'<', 0, 0, 0, 0, 0, 0, 0}, json.getBytes(StandardCharsets.UTF_8)), new byte[16]);
    Path f = Files.write(tmp.resolve("doc.safetensors"), file);
    try (SafetensorsReader r = SafetensorsReader.open(f)) {
      assertEquals(List.of(new TensorInfo("test", DType.INT32, new long[] {2, 2})), r.tensors());
      assertArrayEquals(new byte[16], r.read("test").bytes());
      assertEquals(Map.of(), r.metadata());
    }
  }

  @Test
  void everyReadableDtypeRoundTripsBitExact() throws Exception {
    ByteBuffer f64 = le(24).putDouble(Math.PI).putDouble(-0.0).putDouble(Double.longBitsToDouble(0x7FF0000000000123L));
    ByteBuffer i32 = le(12).putInt(Integer.MIN_VALUE).putInt(-1).putInt(Integer.MAX_VALUE);
    ByteBuffer i64 = le(16).putLong(Long.MIN_VALUE).putLong(0x0123456789ABCDEFL);
    List<RawTensor> in = List.of(
        raw("w/f32", DType.FLOAT32, new long[] {2, 3},
            f32(1.5f, -0.0f, Float.intBitsToFloat(0x7FC00123), Float.POSITIVE_INFINITY, Float.MIN_VALUE, -7)),
        raw("w/f64", DType.FLOAT64, new long[] {3}, f64.array()),
        // float16: 1, smallest subnormal, -0, +inf, a NaN with payload, 65504
        raw("w/f16", DType.FLOAT16, new long[] {3, 2}, shorts(0x3C00, 0x0001, 0x8000, 0x7C00, 0x7E01, 0x7BFF)),
        // bfloat16: 1, smallest subnormal, -inf, a NaN with payload
        raw("w/bf16", DType.BFLOAT16, new long[] {2, 2}, shorts(0x3F80, 0x0001, 0xFF80, 0x7FC1)),
        raw("step/i32", DType.INT32, new long[] {3}, i32.array()),
        raw("step/i64", DType.INT64, new long[] {1, 2}, i64.array()));
    Path f = tmp.resolve("model.safetensors");
    SafetensorsTestWriter.write(f, in, Map.of("format", "pt"));
    try (SafetensorsReader r = SafetensorsReader.open(f)) {
      assertEquals(SafetensorsReader.FORMAT, r.format());
      assertEquals(f, r.source());
      assertEquals(Map.of("format", "pt"), r.metadata());
      assertEquals(in.stream().map(RawTensor::info).sorted((a, b) -> a.name().compareTo(b.name())).toList(), r.tensors());
      for (RawTensor t : in) {
        RawTensor got = r.read(t.name());
        assertEquals(t.info(), got.info());
        assertArrayEquals(t.bytes(), got.bytes(), t.name());
      }
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("w/nope"));
      assertTrue(e.getMessage().contains("w/nope") && e.getMessage().contains(f.toString()), e.getMessage());
    }
  }

  @Test
  void zeroElementAndScalarTensors() throws Exception {
    List<RawTensor> in = List.of(
        raw("empty", DType.FLOAT32, new long[] {0, 4}, new byte[0]),
        raw("empty2", DType.BFLOAT16, new long[] {3, 0}, new byte[0]),
        raw("scalar", DType.FLOAT64, new long[0], le(8).putDouble(2.25).array()),
        raw("after", DType.INT32, new long[] {1}, le(4).putInt(42).array()));
    Path f = tmp.resolve("z.safetensors");
    SafetensorsTestWriter.write(f, in);
    try (SafetensorsReader r = SafetensorsReader.open(f)) {
      assertEquals(4, r.tensors().size());
      for (RawTensor t : in) {
        RawTensor got = r.read(t.name());
        assertEquals(t.info(), got.info());
        assertArrayEquals(t.bytes(), got.bytes(), t.name());
      }
      assertEquals(0, r.read("scalar").info().rank());
      assertEquals(2.25, r.read("scalar").data().getDouble(), 0.0);
    }
  }

  @Test
  void unreadableDtypesAreListedAndRefusedOnRead() throws Exception {
    List<RawTensor> in = List.of(
        SafetensorsTestWriter.unreadable("fp8", "F8_E4M3", new long[] {4}, new byte[] {1, 2, 3, 4}),
        SafetensorsTestWriter.unreadable("u16", "U16", new long[] {2}, new byte[4]),
        SafetensorsTestWriter.unreadable("mask", "BOOL", new long[] {3}, new byte[] {1, 0, 1}),
        SafetensorsTestWriter.unreadable("fp4", "F4", new long[] {2, 2}, new byte[2]),
        raw("ok", DType.FLOAT32, new long[] {1}, f32(3)));
    Path f = tmp.resolve("mixed.safetensors");
    SafetensorsTestWriter.write(f, in);
    try (SafetensorsReader r = SafetensorsReader.open(f)) {
      TensorInfo fp8 = r.tensors().stream().filter(t -> t.name().equals("fp8")).findFirst().orElseThrow();
      assertEquals(DType.UNREADABLE, fp8.dtype());
      assertEquals("F8_E4M3", fp8.storedDtype());
      assertEquals("fp8 F8_E4M3[4]", fp8.toString());
      assertEquals(List.of("BOOL", "F4", "F8_E4M3", "U16"), r.tensors().stream()
          .filter(t -> t.dtype() == DType.UNREADABLE).map(TensorInfo::storedDtype).sorted().toList());
      for (String name : List.of("fp8", "u16", "mask", "fp4")) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read(name));
        String stored = r.tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow().storedDtype();
        assertTrue(e.getMessage().contains("'" + name + "'") && e.getMessage().contains("dtype " + stored)
            && e.getMessage().contains("F32, F16, BF16, F64, I32, I64") && e.getMessage().contains(f.toString()),
            e.getMessage());
      }
      assertEquals(3f, r.read("ok").data().getFloat(), 0f);
    }
  }

  /** JSON order is free: the Rust reader sorts the entries by offsets before checking them. */
  @Test
  void headerEntriesInAnyOrder() throws Exception {
    String json = "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
        + "\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    Path f = Files.write(tmp.resolve("o.safetensors"), SafetensorsTestWriter.file(json, f32(1, 2)));
    try (SafetensorsReader r = SafetensorsReader.open(f)) {
      assertEquals(List.of("a", "b"), r.tensors().stream().map(TensorInfo::name).toList());
      assertEquals(1f, r.read("a").data().getFloat(), 0f);
      assertEquals(2f, r.read("b").data().getFloat(), 0f);
      assertEquals(Map.of("k", "v"), r.metadata());
    }
  }

  @Test
  void fileChangedAfterOpenIsNamed() throws Exception {
    Path f = tmp.resolve("c.safetensors");
    SafetensorsTestWriter.write(f, List.of(raw("a", DType.FLOAT32, new long[] {2}, f32(1, 2))));
    try (SafetensorsReader r = SafetensorsReader.open(f)) {
      Files.write(f, Arrays.copyOf(Files.readAllBytes(f), (int) Files.size(f) - 4));
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("a"));
      assertTrue(e.getMessage().contains("changed since"), e.getMessage());
    }
  }
}
