package dev.upcycle.ckpt.t5x;

import static dev.upcycle.ckpt.t5x.TestMsgpack.map;
import static dev.upcycle.ckpt.t5x.TestMsgpack.zarrSpec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.testing.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class T5xCheckpointReaderTest {

  @TempDir Path tmp;

  private static byte[] gunzip(Path file) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
      return in.readAllBytes();
    }
  }

  private static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Test
  void readsTinyT5Fixture() throws IOException {
    Path dir = Fixtures.fixture("t5x_tiny_t5/checkpoint_1");
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertEquals("t5x", r.format());
      assertEquals(3, r.version());
      assertEquals(List.of(
              new TensorInfo("state/param_states/bias", DType.FLOAT32, new long[] {5}),
              new TensorInfo("state/param_states/kernel", DType.FLOAT64, new long[] {10, 5}),
              new TensorInfo("state/param_states/step", DType.INT32, new long[0]),
              new TensorInfo("state/step", DType.INT32, new long[0])),
          r.tensors());
      assertTrue(r.placeholders().isEmpty());

      // Each array is one chunk of its full shape: the tensor is the gunzipped chunk file.
      RawTensor kernel = r.read("state/param_states/kernel");
      assertArrayEquals(gunzip(dir.resolve("state.param_states.kernel/0.0")), kernel.bytes());
      assertEquals(0.15038408334454245, kernel.data().getDouble(0), 0.0); // MANIFEST listing
      RawTensor bias = r.read("state/param_states/bias");
      assertArrayEquals(gunzip(dir.resolve("state.param_states.bias/0")), bias.bytes());
      for (int i = 0; i < 5; i++) {
        assertEquals(1.0f, bias.data().getFloat(4 * i), 0f);
      }
      assertEquals(1, r.read("state/param_states/step").data().getInt(0));
      assertEquals(1, r.read("state/step").data().getInt(0)); // inline ext 3
    }
  }

  @Test
  void listsOrbaxPlaceholdersAndRefusesToReadThem() throws IOException {
    Path dir = Fixtures.fixture("t5x_tiny_orbax/1");
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertTrue(r.tensors().isEmpty());
      assertEquals(Map.of(
              "state/param_states/bias", "PLACEHOLDER://_optimizer.state.param_states.bias",
              "state/param_states/kernel", "PLACEHOLDER://_optimizer.state.param_states.kernel",
              "state/param_states/step", "PLACEHOLDER://_optimizer.state.param_states.step",
              "state/step", "PLACEHOLDER://_optimizer.state.step"),
          r.placeholders());
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
          () -> r.read("state/step"));
      assertTrue(e.getMessage().contains("state/step"), e.getMessage());
      assertTrue(e.getMessage().contains("Orbax"), e.getMessage());
      assertTrue(e.getMessage().contains(dir.resolve("checkpoint").toString()), e.getMessage());
    }
  }

  /** Fills a [5, 3] int32 array, value 100 i + j, split in [2, 2] chunks (padded at the edges). */
  private Path writeChunkedInt32(Map<String, Object> metadata, boolean dropChunk21) throws IOException {
    Path dir = tmp.resolve("checkpoint_7");
    Files.createDirectories(dir);
    for (int ci = 0; ci < 3; ci++) {
      for (int cj = 0; cj < 2; cj++) {
        if (dropChunk21 && ci == 2 && cj == 1) {
          continue;
        }
        ByteBuffer chunk = le(2 * 2 * 4);
        for (int a = 0; a < 2; a++) {
          for (int b = 0; b < 2; b++) {
            int i = 2 * ci + a;
            int j = 2 * cj + b;
            chunk.putInt(i < 5 && j < 3 ? 100 * i + j : -7); // -7 = padding, must be ignored
          }
        }
        TestMsgpack.gzip(dir.resolve("target.grid/" + ci + "." + cj), chunk.array());
      }
    }
    TestMsgpack.write(dir.resolve("checkpoint"), map("version", 3, "optimizer",
        map("target", map("grid", zarrSpec("int32", "target.grid", metadata)), "state", map())));
    return dir;
  }

  @Test
  void assemblesMultiChunkArrayWithPaddedEdges() throws IOException {
    Path dir = writeChunkedInt32(map("chunks", new long[] {2, 2}, "compressor",
        map("id", "gzip", "level", 1), "shape", new long[] {5, 3}), false);
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      ByteBuffer data = r.read("target/grid").data();
      for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 3; j++) {
          assertEquals(100 * i + j, data.getInt(4 * (3 * i + j)), "element " + i + "," + j);
        }
      }
    }
  }

  @Test
  void missingChunkFileIsFillValueButMissingFolderIsAnError() throws IOException {
    Path dir = writeChunkedInt32(map("chunks", new long[] {2, 2}, "compressor",
        map("id", "gzip", "level", 1), "shape", new long[] {5, 3}), true);
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      ByteBuffer data = r.read("target/grid").data();
      // Chunk (2, 1) covers element (4, 2) only: it reads as fill 0; (4, 1) is in chunk (2, 0).
      assertEquals(0, data.getInt(4 * (3 * 4 + 2)));
      assertEquals(401, data.getInt(4 * (3 * 4 + 1)));
      assertEquals(302, data.getInt(4 * (3 * 3 + 2)));
    }
    try (var walk = Files.walk(dir.resolve("target.grid"))) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
          () -> r.read("target/grid"));
      assertTrue(e.getMessage().contains(dir.resolve("target.grid").toString()), e.getMessage());
      assertTrue(e.getMessage().contains("target/grid"), e.getMessage());
    }
  }

  @Test
  void zarrayFillsGaps() throws IOException {
    // msgpack gives only the shape; .zarray gives chunks, compressor and fill value, and the same shape.
    // (A .zarray that contradicts the spec is refused: T5xBadInputTest.zarrayDisagreeingWithTheSpecIsRefused.)
    Path dir = writeChunkedInt32(map("shape", new long[] {5, 3}), true);
    Files.writeString(dir.resolve("target.grid/.zarray"), "{\"chunks\":[2,2],\"compressor\":"
        + "{\"id\":\"gzip\",\"level\":1},\"dtype\":\"<i4\",\"fill_value\":9,\"filters\":null,"
        + "\"order\":\"C\",\"shape\":[5,3],\"zarr_format\":2,\"dimension_separator\":\".\"}");
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertEquals(List.of(new TensorInfo("target/grid", DType.INT32, new long[] {5, 3})), r.tensors());
      ByteBuffer data = r.read("target/grid").data();
      assertEquals(9, data.getInt(4 * (3 * 4 + 2))); // fill_value from .zarray
      assertEquals(400, data.getInt(4 * (3 * 4)));
    }
  }

  @Test
  void readsInlineArraysScalarsAndSkipsNils() throws IOException {
    Path dir = tmp.resolve("checkpoint_3");
    Files.createDirectories(dir);
    ByteBuffer f32 = le(24);
    for (int i = 0; i < 6; i++) {
      f32.putFloat(i * 0.5f);
    }
    ByteBuffer bf16 = le(4).putShort((short) 0x3f80).putShort((short) 0xc000); // 1.0, -2.0
    ByteBuffer chunk0 = le(12).putInt(1).putInt(2).putInt(3);
    ByteBuffer chunk1 = le(4).putInt(4);
    Map<String, Object> chunked = map("__msgpack_chunked_array__", true, "shape", map("0", 2L, "1", 2L),
        "chunks", map("0", TestMsgpack.ndarray(1, new long[] {3}, "int32", chunk0.array()),
            "1", TestMsgpack.ndarray(1, new long[] {1}, "int32", chunk1.array())));
    TestMsgpack.write(dir.resolve("checkpoint"), map("version", 3, "optimizer", map(
        "target", map("dense", map("kernel", TestMsgpack.ndarray(1, new long[] {2, 3}, "float32", f32.array()),
            "bf", TestMsgpack.ndarray(1, new long[] {2}, "bfloat16", bf16.array()),
            "chunked", chunked, "nothing", null, "empty", map())),
        "state", map("step", 42L, "lr", 0.25, "flag", true)), "flax_mutables", null));
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertEquals(List.of("state/flag", "state/lr", "state/step", "target/dense/bf",
              "target/dense/chunked", "target/dense/kernel"),
          r.tensors().stream().map(TensorInfo::name).toList());
      assertArrayEquals(f32.array(), r.read("target/dense/kernel").bytes());
      assertEquals(DType.BFLOAT16, r.read("target/dense/bf").info().dtype());
      assertArrayEquals(bf16.array(), r.read("target/dense/bf").bytes());
      RawTensor c = r.read("target/dense/chunked");
      assertArrayEquals(new long[] {2, 2}, c.info().shape());
      assertArrayEquals(le(16).putInt(1).putInt(2).putInt(3).putInt(4).array(), c.bytes());
      assertEquals(42L, r.read("state/step").data().getLong(0));
      assertEquals(DType.INT64, r.read("state/step").info().dtype());
      assertEquals(0.25, r.read("state/lr").data().getDouble(0), 0.0);
      assertEquals(1, r.read("state/flag").bytes()[0]);
    }
  }

  @Test
  void acceptsAbsoluteKvstorePathInsideTheFolderAndTrailingSlash() throws IOException {
    Path dir = writeChunkedInt32(map("chunks", new long[] {2, 2}, "compressor",
        map("id", "gzip", "level", 1), "shape", new long[] {5, 3}), false);
    String abs = dir.toAbsolutePath().resolve("target.grid").toString() + "/";
    TestMsgpack.write(dir.resolve("checkpoint"), map("version", 3, "optimizer",
        map("target", map("grid", zarrSpec("int32", abs, map("chunks", new long[] {2, 2},
            "compressor", map("id", "gzip"), "shape", new long[] {5, 3}))))));
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertEquals(201, r.read("target/grid").data().getInt(4 * (3 * 2 + 1)));
    }
  }
}
