package dev.upcycle.ckpt.tf;

import static dev.upcycle.ckpt.tf.Tensors.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.testing.Fixtures;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.TensorSliceProto;

/** Each broken input gives a {@link CheckpointFormatException} (or I/O error) naming the file and tensor. */
class TfBundleBadInputTest {

  @TempDir Path tmp;

  private static void assertMentions(Exception e, Object... parts) {
    for (Object p : parts) {
      assertTrue(e.getMessage().contains(p.toString()), "message lacks '" + p + "': " + e.getMessage());
    }
  }

  private Path t2tCopy() throws IOException {
    return Fixtures.copyTo("t2t_transformer_test_ckpt", tmp);
  }

  @Test
  void missingShardIsListedFromTheIndexAndNamedWhenRead() throws Exception {
    Path dir = t2tCopy();
    Path shard = dir.resolve("model.ckpt-1.data-00001-of-00002");
    Path moved = Files.move(shard, tmp.resolve("shard-not-yet-copied"));
    try (TfBundleReader r = TfBundleReader.open(dir)) {
      List<TfBundleReader.MissingShard> missing = r.missingShards();
      assertEquals(1, missing.size(), missing.toString());
      assertEquals(1, missing.get(0).shard());
      assertEquals(shard.toAbsolutePath(), missing.get(0).file());
      assertTrue(missing.get(0).tensors() > 0 && missing.get(0).tensors() < r.tensors().size(), missing.toString());
      int readable = 0;
      List<CheckpointFormatException> failures = new ArrayList<>();
      for (TensorInfo info : r.tensors()) {
        try {
          r.read(info.name());
          readable++;
        } catch (CheckpointFormatException e) {
          failures.add(e);
        }
      }
      assertEquals(missing.get(0).tensors(), failures.size(), "exactly the tensors of the missing shard fail");
      assertEquals(r.tensors().size() - failures.size(), readable);
      assertMentions(failures.get(0), shard, "missing", "data shard 1 of 2");
      // the shard arrives (a copy finishes): the same reader now reads it, opening it on first use
      Files.move(moved, shard);
      assertEquals(List.of(), r.missingShards());
      for (TensorInfo info : r.tensors()) {
        assertEquals(info, r.read(info.name()).info());
      }
    }
  }

  @Test
  void missingIndexNamedByStateFile() throws Exception {
    Path dir = t2tCopy();
    Files.delete(dir.resolve("model.ckpt-1.index"));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TfBundleReader.open(dir));
    assertMentions(e, dir.resolve("model.ckpt-1.index"), "missing");
  }

  @Test
  void truncatedDataFile() throws Exception {
    Path dir = t2tCopy();
    Path shard = dir.resolve("model.ckpt-1.data-00001-of-00002");
    try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    List<CheckpointFormatException> failures = new ArrayList<>();
    int ok = 0;
    try (TfBundleReader r = TfBundleReader.open(dir)) {
      for (TensorInfo info : r.tensors()) {
        try {
          r.read(info.name());
          ok++;
        } catch (CheckpointFormatException e) {
          failures.add(e);
          assertMentions(e, shard, "'" + info.name() + "'", "truncated");
        }
      }
    }
    assertFalse(failures.isEmpty(), "some tensors lie in the cut-off half");
    assertTrue(ok > 0, "tensors in the kept half still read");
  }

  @Test
  void corruptIndexFailsItsBlockChecksum() throws Exception {
    Path dir = t2tCopy();
    Path index = dir.resolve("model.ckpt-1.index");
    flipByte(index, 20);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TfBundleReader.open(dir));
    assertMentions(e, index, "checksum mismatch");
  }

  @Test
  void corruptDataFailsTheTensorCrc() throws Exception {
    Path prefix = writeSmall(tmp.resolve("ckpt/model"));
    Path data = tmp.resolve("ckpt/model.data-00000-of-00001");
    flipByte(data, 8 + 4 * 3); // inside "w" (written after the 8-byte "step")
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertEquals(7L, r.read("step").data().getLong(0));
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("w"));
      assertMentions(e, data, "'w'", "crc32c mismatch");
    }
  }

  @Test
  void unknownDtypeNamesTheTensor() throws Exception {
    Path prefix = writeSmall(tmp.resolve("ckpt/model"));
    Path index = tmp.resolve("ckpt/model.index");
    patchEntry(index, "w", e -> e.toBuilder().setDtypeValue(999).build());
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TfBundleReader.open(prefix));
    assertMentions(e, index, "'w'", "dtype 999");
    patchEntry(index, "w", x -> x.toBuilder().setDtypeValue(8).build()); // DT_COMPLEX64: real, but not handled
    e = assertThrows(CheckpointFormatException.class, () -> TfBundleReader.open(prefix));
    assertMentions(e, index, "'w'", "DT_COMPLEX64", "not supported");
  }

  @Test
  void sizeThatDisagreesWithShapeNamesTheTensor() throws Exception {
    Path prefix = writeSmall(tmp.resolve("ckpt/model"));
    patchEntry(tmp.resolve("ckpt/model.index"), "w", e -> e.toBuilder().setSize(12).build());
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("w"));
      assertMentions(e, "model.data-00000-of-00001", "'w'", "12 bytes", "16 bytes");
    }
  }

  @Test
  void partitionedVariableIsListedButNotRead() throws Exception {
    Path prefix = writeSmall(tmp.resolve("ckpt/model"));
    patchEntry(tmp.resolve("ckpt/model.index"), "w", e -> e.toBuilder()
        .addSlices(TensorSliceProto.newBuilder().addExtent(TensorSliceProto.Extent.newBuilder().setStart(0).setLength(2)))
        .build());
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertEquals(List.of("step", "w"), r.tensors().stream().map(TensorInfo::name).toList());
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("w"));
      assertMentions(e, "model.index", "'w'", "partitioned", "not supported");
    }
  }

  @Test
  void existingOutputFolderWithoutOverwrite() throws Exception {
    Path folder = Files.createDirectories(tmp.resolve("out/ckpt"));
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
        () -> AtomicFolder.stage(folder, false));
    assertMentions(e, folder, "overwrite");
    try (Stream<Path> s = Files.list(tmp.resolve("out"))) {
      assertEquals(List.of(folder), s.toList(), "no stage was made");
    }
    try (Stream<Path> s = Files.list(folder)) {
      assertEquals(0, s.count());
    }
  }

  @Test
  void folderAlreadyHoldingTheBundleOrNoFolderAtAll() throws Exception {
    Path prefix = writeSmall(tmp.resolve("ckpt/model"));
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, () -> TfBundleWriter.create(prefix));
    assertMentions(e, tmp.resolve("ckpt/model.index"));
    IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
        () -> TfBundleWriter.create(tmp.resolve("nowhere/model")));
    assertMentions(f, tmp.resolve("nowhere"), "does not exist", "AtomicFolder");
  }

  @Test
  void duplicateTensorName() throws Exception {
    Path prefix = Files.createDirectories(tmp.resolve("ckpt")).resolve("model");
    try (TfBundleWriter w = TfBundleWriter.create(prefix)) {
      w.write(Tensors.f32("x", shape(1), 1f));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> w.write(Tensors.f32("x", shape(2), 1f, 2f)));
      assertMentions(e, "'x'", "twice", prefix.toAbsolutePath());
    }
  }

  private static final int BIG = 600_000; // 2.4 MB of floats: written in several slices

  private static void writeAll(TfBundleWriter w) throws IOException {
    w.write(Tensors.i64("step", shape(), 7));
    w.write(Tensors.f32("big/kernel", shape(BIG), Tensors.floats(BIG, 3)));
    w.write(Tensors.f32("w", shape(2, 2), 1f, 2f, 3f, 4f));
    w.commit();
  }

  @Test
  void fullDiskLeavesNothingBehindWhereverItHits() throws Exception {
    // Sizes of a good run tell where each budget runs out.
    Path good = Files.createDirectories(tmp.resolve("good/ckpt")).resolve("model");
    try (TfBundleWriter w = new TfBundleWriter(good, 1 << 30, FullDisk.after(Long.MAX_VALUE))) {
      writeAll(w);
    }
    long data = Files.size(tmp.resolve("good/ckpt/model.data-00000-of-00001"));
    long index = Files.size(tmp.resolve("good/ckpt/model.index"));
    long state = Files.size(tmp.resolve("good/ckpt/checkpoint"));
    assertEquals(8 + 4L * BIG + 16, data);

    record Case(long budget, String expectedInMessage) {}
    List<Case> cases = List.of(
        new Case(0, "'step'"),                           // the first tensor's bytes hit the full disk
        new Case(8, "'big/kernel'"),                     // the step fits; the big tensor's first chunk does not
        new Case(1_000_000, "'big/kernel'"),             // mid-tensor
        new Case(data - 4, "model.data-00000.partial"),  // the last small tensor
        new Case(data + index / 2, "model.index"),       // while writing the index
        new Case(data + index + state / 2, "checkpoint")); // while writing the state file
    for (Case c : cases) {
      Path out = tmp.resolve("run-" + c.budget());
      Path target = out.resolve("ckpt");
      // an old folder that the failed write must leave as it was
      Path old = Files.createDirectories(target);
      Files.writeString(old.resolve("old.txt"), "old");
      TfBundleWriter[] w = new TfBundleWriter[1];
      IOException e = assertThrows(IOException.class, () -> {
        try (AtomicFolder stage = AtomicFolder.stage(target, true)) {
          w[0] = new TfBundleWriter(stage.path().resolve("model"), 1 << 30, FullDisk.after(c.budget()));
          try (TfBundleWriter writer = w[0]) {
            writeAll(writer);
          }
          stage.commit();
        }
      });
      assertMentions(e, "No space left on device", c.expectedInMessage(), w[0].prefix());
      try (Stream<Path> s = Files.list(out)) {
        assertEquals(List.of(target), s.toList(), "budget " + c.budget() + ": no stage remains");
      }
      try (Stream<Path> s = Files.list(target)) {
        assertEquals(List.of(old.resolve("old.txt")), s.toList(), "budget " + c.budget() + ": the old folder as it was");
      }
      assertThrows(IllegalStateException.class, () -> w[0].write(Tensors.f32("z", shape(1), 1f)));
    }
  }

  @Test
  void elementCountOverflowNamesTheTensorAndShape() throws Exception {
    // issue 14: a shape whose element count overflows said only "long overflow"
    Path prefix = writeSmall(tmp.resolve("ckpt/model"));
    long big = 1L << 40;
    patchEntry(BundleFiles.index(prefix), "w", e -> e.toBuilder().setShape(TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dim.newBuilder().setSize(big)).addDim(TensorShapeProto.Dim.newBuilder().setSize(big)))
        .build());
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> {
      try (TfBundleReader r = TfBundleReader.open(prefix)) {
        r.read("w");
      }
    });
    assertMentions(e, BundleFiles.index(prefix), "'w'", "[" + big + ", " + big + "]");
    assertFalse(e.getMessage().contains("long overflow"), e.getMessage());
  }

  @Test
  void stateFileNamingAPathWithANulByteIsRefused() throws Exception {
    // found by TfBundleFuzzTest (seed 14, state file case 22): a bare InvalidPathException
    Path prefix = writeSmall(tmp.resolve("ckpt/model"));
    Path state = prefix.resolveSibling("checkpoint");
    Files.writeString(state, "model_checkpoint_path: \"mo\0del\"\n");
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> TfBundleReader.open(prefix.getParent()));
    assertMentions(e, state, "model_checkpoint_path", "is not a valid path");
  }

  @Test
  void aHeaderClaimingBillionsOfShardsCostsNothing() throws Exception {
    // found by TfBundleFuzzTest (seed 7, entry case 1190): an array of num_shards channels, a loop over all
    Path prefix = writeSmall(tmp.resolve("ckpt/model"));
    List<TableReader.Entry> entries = TableReader.readAll(BundleFiles.index(prefix));
    byte[] header = org.tensorflow.proto.BundleHeaderProto.parseFrom(entries.get(0).value()).toBuilder()
        .setNumShards(Integer.MAX_VALUE).build().toByteArray();
    try (OutputStream out = Files.newOutputStream(BundleFiles.index(prefix))) {
      TableWriter t = new TableWriter(out, 4096, 16);
      t.add(new byte[0], header);
      for (TableReader.Entry e : entries.subList(1, entries.size())) {
        t.add(e.key(), e.value());
      }
      t.finish();
    }
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertEquals(Integer.MAX_VALUE, r.numShards());
      List<TfBundleReader.MissingShard> missing = r.missingShards(); // only shard 0 holds tensors
      assertEquals(1, missing.size(), missing.toString());
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.read("w"));
      assertMentions(e, "model.data-00000-of-2147483647", "missing");
    }
  }

  private static Path writeSmall(Path prefix) throws IOException {
    Files.createDirectories(prefix.getParent());
    try (TfBundleWriter w = TfBundleWriter.create(prefix)) {
      w.write(Tensors.i64("step", shape(), 7));
      w.write(Tensors.f32("w", shape(2, 2), 1f, 2f, 3f, 4f));
      w.commit();
    }
    return prefix;
  }

  private static void flipByte(Path file, long pos) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(pos);
      int b = f.read();
      f.seek(pos);
      f.write(b ^ 0x40);
    }
  }

  /** Rewrites one entry of an index through the table writer, as a broken or foreign writer might. */
  private static void patchEntry(Path index, String name, UnaryOperator<BundleEntryProto> patch) throws IOException {
    List<TableReader.Entry> entries = TableReader.readAll(index);
    try (OutputStream out = Files.newOutputStream(index)) {
      TableWriter t = new TableWriter(out, 4096, 16);
      for (TableReader.Entry e : entries) {
        byte[] value = e.value();
        if (new String(e.key(), StandardCharsets.UTF_8).equals(name)) {
          value = patch.apply(BundleEntryProto.parseFrom(value)).toByteArray();
        }
        t.add(e.key(), value);
      }
      t.finish();
    }
  }
}
