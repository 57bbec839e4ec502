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
import java.util.List;
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
  void everyLeafIsReadOrNamedInAnError() throws IOException {
    // issue 14 #1: an unknown ext type (and any other leaf that is not a tensor) was silently left out
    Path dir = checkpoint(map("w", TestMsgpack.ndarray(1, new long[] {2}, "float32", new byte[8]),
        "odd", new TestMsgpack.Ext((byte) 7, new byte[] {1, 2, 3}),
        "note", "hello",
        "blob", new byte[] {9, 9},
        "list", List.of(1L, 2L)));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> T5xCheckpointReader.open(dir));
    String m = e.getMessage();
    assertTrue(m.startsWith(dir.resolve("checkpoint").toString()), m);
    assertTrue(m.contains("4 leaf/leaves"), m);
    assertTrue(m.contains("target/odd: msgpack extension type 7 of 3 bytes"), m);
    assertTrue(m.contains("target/note: string leaf 'hello'"), m);
    assertTrue(m.contains("target/blob: binary value of 2 bytes"), m);
    assertTrue(m.contains("target/list: an array [1, 2]"), m);
    // what inspect and convert open refuses it the same way
    CheckpointFormatException viaFormats = assertThrows(CheckpointFormatException.class,
        () -> dev.upcycle.ckpt.CheckpointFormats.list(dir, java.util.Optional.empty()));
    assertTrue(viaFormats.getMessage().contains("target/odd"), viaFormats.getMessage());
  }

  @Test
  void nilsAndEmptyMapsAreNotLeaves() throws IOException {
    Path dir = checkpoint(map("w", TestMsgpack.ndarray(1, new long[] {2}, "float32", new byte[8]),
        "none", null, "empty", map()));
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertEquals(List.of("target/w"), r.tensors().stream().map(TensorInfo::name).toList());
    }
  }

  @Test
  void chunkLinkingOutOfTheFolderIsRefused() throws IOException {
    // issue 14 #2: a chunk file that is a symlink to a file outside the checkpoint was read
    Path dir = checkpoint(map("w", zarrSpec("float32", "target.w", meta(4))));
    Path secret = tmp.resolve("secret");
    TestMsgpack.gzip(secret, new byte[16]);
    Path chunk = dir.resolve("target.w/0");
    Files.createDirectories(chunk.getParent());
    Files.createSymbolicLink(chunk, secret);
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("target/w"));
      assertNames(e, chunk, "target/w");
      assertTrue(e.getMessage().contains("links to " + secret.toRealPath()) && e.getMessage().contains("outside"),
          e.getMessage());
    }
    // a relative link that climbs out, and a dangling link, are refused too (not read as fill_value)
    Files.delete(chunk);
    Files.createSymbolicLink(chunk, Path.of("../../secret"));
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertNames(assertThrows(CheckpointFormatException.class, () -> r.read("target/w")), chunk, "target/w");
    }
    Files.delete(chunk);
    Files.createSymbolicLink(chunk, dir.resolve("target.w/gone"));
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("target/w"));
      assertNames(e, chunk, "target/w");
      assertTrue(e.getMessage().contains("cannot be read (not found)"), e.getMessage());
    }
    // a link to a file inside the checkpoint is fine
    Files.delete(chunk);
    ByteBuffer four = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, 1.5f);
    TestMsgpack.gzip(dir.resolve("elsewhere-inside"), four.array());
    Files.createSymbolicLink(chunk, dir.resolve("elsewhere-inside"));
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertEquals(1.5f, r.read("target/w").data().getFloat(0));
    }
  }

  @Test
  void zarrayOrMsgpackLinkingOutOfTheFolderIsRefused() throws IOException {
    Path dir = checkpoint(map("w", zarrSpec("float32", "target.w", meta(4))));
    Path outside = Files.writeString(tmp.resolve("outside.json"), "{\"shape\": [4]}");
    Path zarray = dir.resolve("target.w/.zarray");
    Files.createDirectories(zarray.getParent());
    Files.createSymbolicLink(zarray, outside);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertNames(e, zarray, "target/w");
    assertTrue(e.getMessage().contains("outside"), e.getMessage());

    Path other = Files.createDirectories(tmp.resolve("other"));
    Files.move(dir.resolve("checkpoint"), other.resolve("checkpoint"));
    Files.createSymbolicLink(dir.resolve("checkpoint"), other.resolve("checkpoint"));
    e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertTrue(e.getMessage().startsWith(dir.resolve("checkpoint").toString()) && e.getMessage().contains("outside"),
        e.getMessage());
  }

  @Test
  void chunkFolderLinkingOutOfTheFolderIsRefused() throws IOException {
    Path dir = checkpoint(map("w", zarrSpec("float32", "target.w", meta(4))));
    Path outside = Files.createDirectories(tmp.resolve("outside-array"));
    TestMsgpack.gzip(outside.resolve("0"), new byte[16]);
    Files.createSymbolicLink(dir.resolve("target.w"), outside);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertNames(e, dir.resolve("target.w"), "target/w");
    assertTrue(e.getMessage().contains("outside"), e.getMessage());
  }

  @Test
  void zarrayDisagreeingWithTheSpecIsRefused() throws IOException {
    // issue 14 #3: the msgpack's metadata silently won over a contradicting .zarray
    String[][] cases = {
      // .zarray field, its value, what the spec says
      {"\"shape\": [4, 2]", "shape [4, 2]", "shape [2, 4]"},
      {"\"dtype\": \"<i4\"", "dtype '<i4'", "dtype '<f4'"},
      {"\"chunks\": [1, 4]", "chunks [1, 4]", "chunks [2, 4]"},
      {"\"compressor\": {\"id\": \"zlib\"}", "compressor", "compressor"},
    };
    for (String[] c : cases) {
      Map<String, Object> m = meta(2, 4);
      m.put("dtype", "<f4");
      Path dir = checkpoint(map("w", zarrSpec("float32", "target.w", m)));
      Path zarray = dir.resolve("target.w/.zarray");
      Files.createDirectories(zarray.getParent());
      Files.writeString(zarray, "{" + c[0] + "}");
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
          () -> T5xCheckpointReader.open(dir), c[0]);
      assertNames(e, dir.resolve("checkpoint"), "target/w");
      assertTrue(e.getMessage().contains(zarray.toString()) && e.getMessage().contains(c[1])
          && e.getMessage().contains(c[2]) && e.getMessage().contains("disagree"), e.getMessage());
      try (var walk = Files.walk(dir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    // the spec's top-level dtype counts when its metadata has none; equal spellings agree
    Path dir = checkpoint(map("w", zarrSpec("float32", "target.w", meta(2))));
    Path zarray = dir.resolve("target.w/.zarray");
    Files.createDirectories(zarray.getParent());
    Files.writeString(zarray, "{\"dtype\": \"<i8\"}");
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertTrue(e.getMessage().contains("dtype 'float32'") && e.getMessage().contains("dtype '<i8'"), e.getMessage());
    Files.writeString(zarray, "{\"dtype\": \"<f4\", \"shape\": [2], \"chunks\": [2], \"compressor\":"
        + " {\"id\": \"gzip\", \"level\": 5}, \"fill_value\": 0.0, \"order\": \"C\"}");
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertEquals(List.of(new TensorInfo("target/w", DType.FLOAT32, new long[] {2})), r.tensors());
    }
  }

  @Test
  void zarrayThatIsNotUnicodeTextIsRefused() throws IOException {
    // found by T5xFuzzTest (seed 14, .zarray case 1152): Jackson reads 00 00 00 xx as UTF-32 and threw
    // a bare CharConversionException for the invalid character that follows
    Path dir = checkpoint(map("w", zarrSpec("float32", "target.w", meta(4))));
    Path zarray = dir.resolve("target.w/.zarray");
    Files.createDirectories(zarray.getParent());
    Files.write(zarray, new byte[] {0, 0, 0, '{', (byte) 0x80, 'k', 'r', '"', 0, 0, 0, '}'});
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertNames(e, zarray, "target/w");
    assertTrue(e.getMessage().contains("is not UTF-8 text"), e.getMessage());
  }

  @Test
  void deeplyNestedMsgpackIsRefusedWithoutAStackOverflow() throws IOException {
    // issue 14 #8: thousands of nested arrays ended in StackOverflowError
    Path dir = Files.createDirectories(tmp.resolve("checkpoint_1"));
    byte[] deep = new byte[3 + 5000 + 1];
    deep[0] = (byte) 0x81; // {"a": [[[[... nil]]]]}
    deep[1] = (byte) 0xa1;
    deep[2] = 'a';
    Arrays.fill(deep, 3, 3 + 5000, (byte) 0x91);
    deep[deep.length - 1] = (byte) 0xc0;
    Path file = Files.write(dir.resolve("checkpoint"), deep);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("nest more than " + MsgpackTree.MAX_NESTING_DEPTH + " deep"), e.getMessage());
    // a tree as deep as the limit allows still parses
    byte[] ok = Arrays.copyOf(deep, 3 + MsgpackTree.MAX_NESTING_DEPTH);
    Arrays.fill(ok, 3, ok.length - 1, (byte) 0x91);
    ok[ok.length - 1] = (byte) 0xc0;
    Files.write(file, ok);
    CheckpointFormatException leaf = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertTrue(leaf.getMessage().contains("a: an array"), leaf.getMessage()); // parsed; refused as a non-tensor leaf
  }

  @Test
  void elementCountOverflowNamesTheTensorAndShape() throws IOException {
    long big = 1L << 40;
    Path dir = checkpoint(map("v", TestMsgpack.ndarray(1, new long[] {big, big}, "float32", new byte[4])));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> T5xCheckpointReader.open(dir));
    assertNames(e, dir.resolve("checkpoint"), "target/v");
    assertTrue(e.getMessage().contains("[" + big + ", " + big + "]") && !e.getMessage().contains("long overflow"),
        e.getMessage());
    Path dir2 = checkpoint(map("w", zarrSpec("float32", "target.w", meta(big, big))));
    CheckpointFormatException e2 = assertThrows(CheckpointFormatException.class,
        () -> T5xCheckpointReader.open(dir2));
    assertNames(e2, dir2.resolve("checkpoint"), "target/w");
    assertTrue(e2.getMessage().contains("[" + big + ", " + big + "]"), e2.getMessage());
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
