package dev.upcycle.ckpt.tf;

import static dev.upcycle.ckpt.tf.Tensors.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfBundleRoundTripTest {

  @TempDir Path tmp;

  /** {@code prefix}, after making its folder (the writer writes into an existing one). */
  private static Path inFolder(Path prefix) throws java.io.IOException {
    Files.createDirectories(prefix.getParent());
    return prefix;
  }

  private static List<RawTensor> sample() {
    List<RawTensor> t = new ArrayList<>();
    // Deliberately out of order; names as TF1 and TF2 spell them.
    t.add(Tensors.f32("encoder/layers_1/mlp/wi/kernel", shape(16, 32), Tensors.floats(512, 1)));
    t.add(Tensors.i64("global_step", shape(), 123456789012L));
    t.add(Tensors.f64("a/.ATTRIBUTES/VARIABLE_VALUE", shape(3), 0.1, -2.5, Math.PI));
    t.add(Tensors.i32("counts", shape(2, 2), 1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE));
    t.add(Tensors.bf16("decoder/emb", shape(4), 1.5f, -2.25f, 0f, 256f));
    t.add(Tensors.f32("empty", shape(0, 5)));
    t.add(Tensors.f32("encoder/layers_0/mlp/wi/kernel", shape(16, 32), Tensors.floats(512, 2)));
    ByteBuffer h = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3c00)
        .putShort((short) 0xc000).putShort((short) 0x7bff);
    t.add(new RawTensor(new TensorInfo("half", DType.FLOAT16, shape(3)), h.flip()));
    ByteBuffer u = ByteBuffer.wrap(new byte[] {0, 1, (byte) 255});
    t.add(new RawTensor(new TensorInfo("u8", DType.UINT8, shape(3)), u));
    t.add(new RawTensor(new TensorInfo("flags", DType.BOOL, shape(2)), ByteBuffer.wrap(new byte[] {1, 0})));
    return t;
  }

  @Test
  void everyDtypeRoundTripsAcrossSeveralShards() throws Exception {
    Path prefix = tmp.resolve("out/ckpt/model.ckpt-100");
    List<RawTensor> written = sample();
    try (AtomicFolder out = AtomicFolder.stage(prefix.getParent(), false);
        TfBundleWriter w = TfBundleWriter.create(out.path().resolve(prefix.getFileName()), 3000)) {
      for (RawTensor r : written) {
        w.write(r);
      }
      w.commit();
      assertFalse(Files.exists(prefix.getParent()), "the folder must not appear before its commit");
      out.commit();
    }
    // Two 2048-byte kernels with a 3000-byte limit cannot share a shard.
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertTrue(r.numShards() >= 2, "shards: " + r.numShards());
      for (int i = 0; i < r.numShards(); i++) {
        assertTrue(Files.isRegularFile(BundleFiles.data(r.prefix(), i, r.numShards())));
      }
      List<String> names = r.tensors().stream().map(TensorInfo::name).toList();
      assertEquals(written.stream().map(RawTensor::name).sorted().toList(), names);
      for (RawTensor expected : written) {
        RawTensor got = r.read(expected.name());
        assertEquals(expected.info(), got.info());
        assertArrayEquals(expected.bytes(), got.bytes(), expected.name());
      }
      assertEquals("tf-bundle", r.format());
    }
    // Only the bundle and the state file, no temporary names, and nothing left beside the folder.
    try (Stream<Path> files = Files.list(prefix.getParent())) {
      assertTrue(files.allMatch(p -> p.getFileName().toString().matches(
          "model\\.ckpt-100\\.(index|data-\\d{5}-of-\\d{5})|checkpoint")));
    }
    try (Stream<Path> siblings = Files.list(tmp.resolve("out"))) {
      assertEquals(List.of("ckpt"), siblings.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void backgroundFsyncsAfterEveryTensorChangeNothingWritten() throws Exception {
    Path prefix = tmp.resolve("synced/ckpt/model.ckpt-7");
    List<RawTensor> written = sample();
    // a 1-byte threshold starts an fsync after each tensor, across shard switches
    Files.createDirectories(prefix.getParent());
    try (TfBundleWriter w = new TfBundleWriter(prefix, 3000,
        file -> java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE), 1)) {
      for (RawTensor r : written) {
        w.write(r);
      }
      w.commit();
    }
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertTrue(r.numShards() >= 2, "shards: " + r.numShards());
      for (RawTensor expected : written) {
        assertArrayEquals(expected.bytes(), r.read(expected.name()).bytes(), expected.name());
      }
    }
  }

  @Test
  void folderWithStateFileAndIndexFileBothOpen() throws Exception {
    Path prefix = tmp.resolve("ckpt/model.ckpt-7");
    try (TfBundleWriter w = TfBundleWriter.create(inFolder(prefix))) {
      w.write(Tensors.f32("x", shape(2), 1f, 2f));
      w.commit();
    }
    String state = Files.readString(tmp.resolve("ckpt/checkpoint"), StandardCharsets.UTF_8);
    assertTrue(state.contains("model_checkpoint_path: \"model.ckpt-7\""), state);
    assertTrue(state.contains("all_model_checkpoint_paths: \"model.ckpt-7\""), state);
    assertTrue(TfBundleReader.looksLike(tmp.resolve("ckpt")));
    assertTrue(TfBundleReader.looksLike(prefix));
    assertFalse(TfBundleReader.looksLike(tmp));
    assertFalse(TfBundleReader.looksLike(tmp.resolve("nothing/here")));
    for (Path p : List.of(tmp.resolve("ckpt"), tmp.resolve("ckpt/model.ckpt-7.index"))) {
      try (TfBundleReader r = TfBundleReader.open(p)) {
        assertEquals(prefix.toAbsolutePath(), r.prefix());
        assertEquals(2f, r.read("x").data().getFloat(4));
      }
    }
  }

  @Test
  void absoluteStateFilePathFromAnotherMachineFallsBackToTheFolder() throws Exception {
    Path prefix = tmp.resolve("ckpt/model.ckpt-3");
    try (TfBundleWriter w = TfBundleWriter.create(inFolder(prefix))) {
      w.write(Tensors.i32("step", shape(), 3));
      w.commit();
    }
    Files.writeString(tmp.resolve("ckpt/checkpoint"), "model_checkpoint_path: \"/gone/train/model.ckpt-3\"\n");
    try (TfBundleReader r = TfBundleReader.open(tmp.resolve("ckpt"))) {
      assertEquals(3, r.read("step").data().getInt(0));
    }
  }

  @Test
  void emptyBundleHasOneEmptyShard() throws Exception {
    Path prefix = tmp.resolve("e/model");
    try (TfBundleWriter w = TfBundleWriter.create(inFolder(prefix))) {
      w.commit();
    }
    assertEquals(0, Files.size(tmp.resolve("e/model.data-00000-of-00001")));
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertEquals(0, r.tensors().size());
      assertEquals(1, r.numShards());
    }
  }

  @Test
  void closeWithoutCommitLeavesNothing() throws Exception {
    Path prefix = tmp.resolve("out/ckpt/model");
    try (AtomicFolder out = AtomicFolder.stage(prefix.getParent(), false);
        TfBundleWriter w = TfBundleWriter.create(out.path().resolve("model"))) {
      w.write(Tensors.f32("x", shape(1), 1f));
    }
    try (Stream<Path> s = Files.list(tmp.resolve("out"))) {
      assertEquals(0, s.count(), "neither the folder nor its stage");
    }
  }

  @Test
  void overwriteReplacesTheWholeFolder() throws Exception {
    Path prefix = tmp.resolve("ckpt/model");
    Files.createDirectories(prefix.getParent());
    Files.writeString(prefix.getParent().resolve("stale.txt"), "old");
    try (AtomicFolder out = AtomicFolder.stage(prefix.getParent(), true);
        TfBundleWriter w = TfBundleWriter.create(out.path().resolve("model"))) {
      w.write(Tensors.f32("x", shape(1), 5f));
      w.commit();
      out.commit();
    }
    assertFalse(Files.exists(prefix.getParent().resolve("stale.txt")));
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertEquals(5f, r.read("x").data().getFloat(0));
    }
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of("ckpt"), s.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void stringsAndUnknownNamesAreRejectedClearly() throws Exception {
    Path prefix = tmp.resolve("ckpt/model");
    try (TfBundleWriter w = TfBundleWriter.create(inFolder(prefix))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(
          new RawTensor(new TensorInfo("s", DType.STRING, shape()), ByteBuffer.allocate(3))));
      assertTrue(e.getMessage().contains("'s'") && e.getMessage().contains("DT_STRING"), e.getMessage());
      w.write(Tensors.f32("x", shape(1), 1f));
      w.commit();
    }
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.read("y"));
      assertTrue(e.getMessage().contains("'y'"), e.getMessage());
    }
  }
}
