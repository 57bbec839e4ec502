package dev.upcycle.ckpt.t5x;

import static dev.upcycle.ckpt.t5x.TestMsgpack.map;
import static dev.upcycle.ckpt.t5x.TestMsgpack.zarrSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.testing.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input gives a {@link CheckpointFormatException} naming the file and the tensor. */
class T5xBadInputTest {

  @TempDir Path tmp;

  private Path checkpoint(Map<String, Object> target) throws IOException {
    Path dir = tmp.resolve("checkpoint_5");
    Files.createDirectories(dir);
    TestMsgpack.write(dir.resolve("checkpoint"), map("version", 3, "optimizer", map("target", target)));
    return dir;
  }

  private static Map<String, Object> meta(long... shape) {
    return map("chunks", shape, "compressor", map("id", "gzip", "level", 1), "shape", shape);
  }

  private static void assertNames(Exception e, Path file, String tensor) {
    assertTrue(e.getMessage().contains(file.toString()), "no file " + file + " in: " + e.getMessage());
    assertTrue(e.getMessage().contains("'" + tensor + "'"), "no tensor " + tensor + " in: " + e.getMessage());
  }

  @Test
  void kvstorePathEscapingTheFolderIsRefused() throws IOException {
    Path dir = checkpoint(map("w", zarrSpec("float32", "../x", meta(4))));
    Files.createDirectories(tmp.resolve("x"));
    TestMsgpack.gzip(tmp.resolve("x/0"), new byte[16]);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> T5xCheckpointReader.open(dir));
    assertNames(e, dir.resolve("checkpoint"), "target/w");
    assertTrue(e.getMessage().contains("../x") && e.getMessage().contains("outside"), e.getMessage());
  }

  @Test
  void absoluteKvstorePathOutsideTheFolderIsRefused() throws IOException {
    Path outside = tmp.resolve("elsewhere/target.w");
    Path dir = checkpoint(map("w", zarrSpec("float32", outside.toString(), meta(4))));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> T5xCheckpointReader.open(dir));
    assertNames(e, dir.resolve("checkpoint"), "target/w");
    assertTrue(e.getMessage().contains(outside.toString()), e.getMessage());
  }

  @Test
  void chunkOfWrongSizeIsRefused() throws IOException {
    Path dir = checkpoint(map("w", zarrSpec("float32", "target.w", meta(2, 3))));
    Path chunk = dir.resolve("target.w/0.0");
    TestMsgpack.gzip(chunk, new byte[20]); // 24 expected
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("target/w"));
      assertNames(e, chunk, "target/w");
      assertTrue(e.getMessage().contains("20") && e.getMessage().contains("24"), e.getMessage());
    }
    TestMsgpack.gzip(chunk, new byte[28]);
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("target/w"));
      assertNames(e, chunk, "target/w");
    }
  }

  @Test
  void chunkThatIsNotGzipIsRefused() throws IOException {
    Path dir = checkpoint(map("w", zarrSpec("float32", "target.w", meta(2))));
    Path chunk = dir.resolve("target.w/0");
    Files.createDirectories(chunk.getParent());
    Files.write(chunk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("target/w"));
      assertNames(e, chunk, "target/w");
    }
  }

  @Test
  void unknownDtypeIsRefused() throws IOException {
    Map<String, Object> m = meta(2);
    Path dir = checkpoint(map("w", zarrSpec("complex64", "target.w", m)));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> T5xCheckpointReader.open(dir));
    assertNames(e, dir.resolve("checkpoint"), "target/w");
    assertTrue(e.getMessage().contains("complex64"), e.getMessage());

    Path dir2 = checkpoint(map("v", TestMsgpack.ndarray(1, new long[] {1}, "float128", new byte[16])));
    CheckpointFormatException e2 = assertThrows(CheckpointFormatException.class,
        () -> T5xCheckpointReader.open(dir2));
    assertNames(e2, dir2.resolve("checkpoint"), "target/v");
    assertTrue(e2.getMessage().contains("float128"), e2.getMessage());
  }

  @Test
  void truncatedMsgpackIsRefused() throws IOException {
    Path dir = Fixtures.copyTo("t5x_tiny_t5/checkpoint_1", tmp);
    Path file = dir.resolve("checkpoint");
    byte[] all = Files.readAllBytes(file);
    for (int cut : new int[] {1, 100, 300, all.length - 1}) {
      Files.write(file, Arrays.copyOf(all, cut));
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
          () -> T5xCheckpointReader.open(dir), "cut at " + cut);
      assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("truncated or corrupt"), e.getMessage());
    }
    // A cut inside the param_states/kernel spec names the tensor being parsed.
    Files.write(file, Arrays.copyOf(all, 0x118));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> T5xCheckpointReader.open(dir));
    assertTrue(e.getMessage().contains("optimizer/state/param_states/kernel"), e.getMessage());
  }

  @Test
  void corruptMsgpackIsRefused() throws IOException {
    Path dir = Fixtures.copyTo("t5x_tiny_t5/checkpoint_1", tmp);
    Path file = dir.resolve("checkpoint");
    byte[] all = Files.readAllBytes(file);
    byte[] trailing = Arrays.copyOf(all, all.length + 3);
    Files.write(file, trailing);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> T5xCheckpointReader.open(dir));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("after"), e.getMessage());

    Files.write(file, new byte[] {(byte) 0x93, 1, 2, 3}); // an array, not a map
    e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("expected a map"),
        e.getMessage());

    byte[] badExt = all.clone(); // the ext 3 payload of state/step declares one byte too many
    for (int i = 0; i + 2 < badExt.length; i++) {
      if (badExt[i] == (byte) 0xc7 && badExt[i + 1] == 0x0e && badExt[i + 2] == 3) {
        badExt[i + 1] = 0x0f;
      }
    }
    Files.write(file, badExt);
    e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("state/step"),
        e.getMessage());
  }

  @Test
  void unknownTensorNameIsRefused() throws IOException {
    try (T5xCheckpointReader r = T5xCheckpointReader.open(Fixtures.fixture("t5x_tiny_t5/checkpoint_1"))) {
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("target/nope"));
      assertTrue(e.getMessage().contains("'target/nope'"), e.getMessage());
    }
  }

  @Test
  void existingOutputWithoutOverwriteIsRefusedBeforeWriting() throws IOException {
    Path out = tmp.resolve("model/checkpoint_9");
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "old");
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
        () -> AtomicFolder.stage(out, false));
    assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
    try (var list = Files.list(out.getParent())) {
      assertEquals(1, list.count(), "no stage is left beside the target");
    }
    assertEquals("old", Files.readString(out.resolve("keep.txt")));
  }

  @Test
  void folderHoldingACheckpointOrMissingIsRefused() throws IOException {
    Path out = tmp.resolve("model/checkpoint_9");
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> T5xCheckpointWriter.create(out));
    assertTrue(missing.getMessage().contains(out.toString()) && missing.getMessage().contains("does not exist"),
        missing.getMessage());
    Files.createDirectories(out);
    try (T5xCheckpointWriter w = T5xCheckpointWriter.create(out)) {
      w.commit();
    }
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
        () -> T5xCheckpointWriter.create(out));
    assertTrue(e.getMessage().contains(out.resolve("checkpoint").toString()), e.getMessage());
  }

  @Test
  void outputAppearingBeforeCommitIsNotReplaced() throws IOException {
    Path out = tmp.resolve("model/checkpoint_9");
    try (AtomicFolder stage = AtomicFolder.stage(out, false);
        T5xCheckpointWriter w = T5xCheckpointWriter.create(stage.path())) {
      w.write(new RawTensor(new TensorInfo("target/w", DType.FLOAT32, new long[] {2}), ByteBuffer.allocate(8)));
      w.commit();
      Files.createDirectories(out);
      FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, stage::commit);
      assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
    }
    try (var list = Files.list(out)) {
      assertFalse(list.findAny().isPresent(), "the foreign folder is untouched");
    }
    try (var list = Files.list(out.getParent())) {
      assertEquals(1, list.count(), "the temporary folder was removed");
    }
  }
}
