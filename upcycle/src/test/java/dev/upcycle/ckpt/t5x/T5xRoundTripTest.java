package dev.upcycle.ckpt.t5x;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

class T5xRoundTripTest {

  @TempDir Path tmp;

  private static RawTensor random(Random rnd, String name, DType dtype, long... shape) {
    TensorInfo info = new TensorInfo(name, dtype, shape);
    byte[] b = new byte[(int) info.byteSize()];
    rnd.nextBytes(b);
    return new RawTensor(info, ByteBuffer.wrap(b));
  }

  private List<RawTensor> tensors() {
    Random rnd = new Random(11);
    List<RawTensor> list = new ArrayList<>();
    list.add(random(rnd, "target/encoder/layers_0/mlp/wi_0/kernel", DType.FLOAT32, 7, 5)); // 2x2 chunks
    list.add(random(rnd, "target/encoder/layers_0/mlp/wo/kernel", DType.BFLOAT16, 5, 7));
    list.add(random(rnd, "target/token_embedder/embedding", DType.FLOAT64, 3, 2, 5)); // rank 3
    list.add(random(rnd, "target/encoder/encoder_norm/scale", DType.FLOAT32, 9)); // rank 1
    list.add(random(rnd, "target/empty", DType.FLOAT32, 0, 4));
    list.add(random(rnd, "state/param_states/encoder/layers_0/mlp/wi_0/kernel/v_row", DType.FLOAT32, 7));
    list.add(random(rnd, "state/param_states/encoder/layers_0/mlp/wi_0/kernel/v_col", DType.FLOAT32, 5));
    list.add(random(rnd, "state/param_states/counts", DType.INT64, 2, 3));
    list.add(random(rnd, "state/param_states/ids", DType.INT32, 17));
    list.add(random(rnd, "state/param_states/mask", DType.UINT8, 3, 3));
    list.add(random(rnd, "state/param_states/scalar_f", DType.BFLOAT16)); // rank 0
    list.add(random(rnd, "state/step", DType.INT32)); // rank 0
    return list;
  }

  @Test
  void writesThenReadsIdenticalBytes() throws IOException {
    Path out = T5xCheckpointWriter.checkpointDir(tmp.resolve("model"), 12);
    List<RawTensor> written = tensors();
    try (AtomicFolder stage = AtomicFolder.stage(out, false);
        T5xCheckpointWriter w = T5xCheckpointWriter.create(stage.path(), 64)) {
      for (RawTensor t : written) {
        w.write(t);
      }
      w.commit();
      assertFalse(Files.exists(out), "nothing appears before the folder's commit");
      stage.commit();
    }
    assertEquals(tmp.resolve("model/checkpoint_12"), out);
    try (var list = Files.list(out.getParent())) {
      assertEquals(1, list.count(), "only the committed folder remains");
    }
    try (T5xCheckpointReader r = T5xCheckpointReader.open(out)) {
      assertEquals(3, r.version());
      assertEquals(written.stream().map(RawTensor::info).sorted((a, b) -> a.name().compareTo(b.name())).toList(),
          r.tensors());
      for (RawTensor t : written) {
        RawTensor back = r.read(t.name());
        assertEquals(t.info(), back.info());
        assertArrayEquals(t.bytes(), back.bytes(), t.name());
      }
    }
  }

  @Test
  void layoutMatchesT5x() throws IOException {
    Path out = Files.createDirectory(tmp.resolve("checkpoint_1"));
    List<RawTensor> written = tensors();
    try (T5xCheckpointWriter w = T5xCheckpointWriter.create(out, 64)) {
      for (RawTensor t : written) {
        w.write(t);
      }
      w.commit();
    }
    // [7, 5] float32 under 64 bytes: 7 -> 4 (80 B), then 5 -> 3 (48 B): chunks [4, 3], grid 2 x 2.
    Path kernel = out.resolve("target.encoder.layers_0.mlp.wi_0.kernel");
    JsonNode zarray = new ObjectMapper().readTree(kernel.resolve(".zarray").toFile());
    assertEquals("[4,3]", zarray.get("chunks").toString());
    assertEquals("[7,5]", zarray.get("shape").toString());
    assertEquals("<f4", zarray.get("dtype").asText());
    assertEquals("gzip", zarray.get("compressor").get("id").asText());
    assertEquals(1, zarray.get("compressor").get("level").asInt());
    assertEquals("C", zarray.get("order").asText());
    assertEquals(2, zarray.get("zarr_format").asInt());
    assertEquals(".", zarray.get("dimension_separator").asText());
    assertTrue(zarray.get("filters").isNull());
    assertEquals(0, zarray.get("fill_value").asInt());
    assertEquals("bfloat16", new ObjectMapper()
        .readTree(out.resolve("target.encoder.layers_0.mlp.wo.kernel/.zarray").toFile()).get("dtype").asText());
    // Chunk (1, 1) holds rows 4..6, cols 3..4 of the source, padded to [4, 3] with zeros.
    byte[] chunk;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(kernel.resolve("1.1")))) {
      chunk = in.readAllBytes();
    }
    assertEquals(4 * 3 * 4, chunk.length);
    ByteBuffer src = written.get(0).data();
    ByteBuffer c = ByteBuffer.wrap(chunk).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int a = 0; a < 4; a++) {
      for (int b = 0; b < 3; b++) {
        int i = 4 + a;
        int j = 3 + b;
        int expected = i < 7 && j < 5 ? src.getInt(4 * (5 * i + j)) : 0;
        assertEquals(expected, c.getInt(4 * (3 * a + b)), "chunk element " + a + "," + b);
      }
    }
    assertTrue(Files.exists(kernel.resolve("0.0")) && Files.exists(kernel.resolve("0.1"))
        && Files.exists(kernel.resolve("1.0")));

    // The msgpack tree: {version: 3, optimizer: {state: {param_states, step}, target}}.
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(Files.readAllBytes(out.resolve("checkpoint")))) {
      Value root = u.unpackValue();
      var m = root.asMapValue().map();
      assertEquals(3, m.get(org.msgpack.value.ValueFactory.newString("version")).asIntegerValue().asInt());
      var opt = m.get(org.msgpack.value.ValueFactory.newString("optimizer")).asMapValue().map();
      var target = opt.get(org.msgpack.value.ValueFactory.newString("target")).asMapValue();
      String spec = target.toJson();
      assertTrue(spec.contains("\"path\":\"target.encoder.layers_0.mlp.wi_0.kernel\""), spec);
      assertTrue(spec.contains("\"driver\":\"zarr\""), spec);
      var state = opt.get(org.msgpack.value.ValueFactory.newString("state")).asMapValue().map();
      // T5X's Adafactor layout: all four slots, the unused v and m as float32 [1]
      String slots = state.get(org.msgpack.value.ValueFactory.newString("param_states")).toJson();
      for (String slot : new String[] {"v_row", "v_col", "v", "m"}) {
        assertTrue(slots.contains("\"path\":\"state.param_states.encoder.layers_0.mlp.wi_0.kernel." + slot + "\""),
            slot + " in " + slots);
      }
      assertTrue(slots.contains("\"m\":{\"driver\":\"zarr\",\"dtype\":\"float32\"") && slots.contains("\"shape\":[1]"),
          slots);
      Value step = state.get(org.msgpack.value.ValueFactory.newString("step"));
      assertTrue(step.isExtensionValue(), "rank-0 step is inline");
      assertEquals(3, step.asExtensionValue().getType());
    }
  }

  @Test
  void defaultChunksFollowT5xLimit() {
    // 32003 x 4096 float32 = 524 MB: halve 32003 -> 16002 -> 8001 -> 4001 (65.5 MB <= 64 MiB).
    assertArrayEquals(new long[] {4001, 4096},
        ChunkGrid.chooseChunks(new long[] {32003, 4096}, 4, T5xCheckpointWriter.DEFAULT_MAX_CHUNK_BYTES));
    assertArrayEquals(new long[] {512, 1024},
        ChunkGrid.chooseChunks(new long[] {512, 1024}, 2, T5xCheckpointWriter.DEFAULT_MAX_CHUNK_BYTES));
  }

  @Test
  void abortLeavesNothingAndOverwriteReplaces() throws IOException {
    Path out = tmp.resolve("checkpoint_2");
    Random rnd = new Random(3);
    try (AtomicFolder stage = AtomicFolder.stage(out, false);
        T5xCheckpointWriter w = T5xCheckpointWriter.create(stage.path())) {
      w.write(random(rnd, "target/a", DType.FLOAT32, 4));
    }
    try (var list = Files.list(tmp)) {
      assertEquals(0, list.count(), "close without commit removes the stage");
    }
    RawTensor first = random(rnd, "target/a", DType.FLOAT32, 4);
    try (AtomicFolder stage = AtomicFolder.stage(out, false);
        T5xCheckpointWriter w = T5xCheckpointWriter.create(stage.path())) {
      w.write(first);
      w.commit();
      stage.commit();
    }
    RawTensor second = random(rnd, "target/b", DType.INT32, 2);
    try (AtomicFolder stage = AtomicFolder.stage(out, true);
        T5xCheckpointWriter w = T5xCheckpointWriter.create(stage.path())) {
      w.write(second);
      w.commit();
      stage.commit();
    }
    try (T5xCheckpointReader r = T5xCheckpointReader.open(out)) {
      assertEquals(List.of(second.info()), r.tensors());
      assertArrayEquals(second.bytes(), r.read("target/b").bytes());
    }
    try (var list = Files.list(tmp)) {
      assertEquals(1, list.count(), "the old checkpoint is gone");
    }
  }

  @Test
  void refusesBadNames() throws IOException {
    Random rnd = new Random(5);
    try (T5xCheckpointWriter w = T5xCheckpointWriter.create(Files.createDirectory(tmp.resolve("checkpoint_3")))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> w.write(random(rnd, "encoder/x", DType.FLOAT32, 2)));
      assertTrue(e.getMessage().contains("encoder/x") && e.getMessage().contains("target/"), e.getMessage());
      w.write(random(rnd, "target/a/b", DType.FLOAT32, 2));
      e = assertThrows(IllegalArgumentException.class, () -> w.write(random(rnd, "target/a/b", DType.FLOAT32, 2)));
      assertTrue(e.getMessage().contains("target/a/b"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> w.write(random(rnd, "target/a", DType.FLOAT32, 2)));
      assertTrue(e.getMessage().contains("target/a"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> w.write(random(rnd, "target/a.b", DType.FLOAT32, 2)));
      assertTrue(e.getMessage().contains("target.a.b"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> w.write(random(rnd, "target/../x", DType.FLOAT32, 2)));
      assertTrue(e.getMessage().contains("'..'"), e.getMessage());
    }
  }
}
