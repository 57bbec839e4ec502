package dev.upcycle.train.input;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.testing.Tensors;
import dev.upcycle.train.data.Compression;
import dev.upcycle.train.data.ExampleCodec;
import dev.upcycle.train.data.TfRecordWriter;
import dev.upcycle.train.step.Batch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Step-addressable TFRecord batches: shapes, padding/shift, determinism, jumps, epochs, errors. */
class TfRecordBatchSourceTest {

  /** 2 files × 5 records; record k has inputs [k+1, k+2, k+3] and targets [100+k, 200+k]. */
  static List<Path> tokenFiles(Path dir) throws Exception {
    List<Path> files = new ArrayList<>();
    int k = 0;
    for (int f = 0; f < 2; f++) {
      Path p = dir.resolve("tok-" + f + ".tfrecord");
      try (TfRecordWriter w = TfRecordWriter.create(p, f == 0 ? Compression.NONE : Compression.GZIP)) {
        for (int i = 0; i < 5; i++, k++) {
          w.write(ExampleCodec.tokens(new int[] {k + 1, k + 2, k + 3}, new int[] {100 + k, 200 + k}));
        }
      }
      files.add(p);
    }
    return files;
  }

  @Test
  void t5BatchesArePaddedShiftedAndAddressableByStep(@TempDir Path dir) throws Exception {
    BatchShape shape = new BatchShape(3, 4, 3);
    List<Path> files = tokenFiles(dir);
    List<int[]> sequential = new ArrayList<>();
    try (TfRecordBatchSource src = new TfRecordBatchSource(
        TfRecordBatchSource.Options.tokens(files, ExampleKind.T5, shape, 7))) {
      assertEquals(10, src.recordsPerEpoch());
      for (int s = 0; s < 8; s++) {
        try (Batch b = src.nextBatch(s)) {
          int[] inputs = Tensors.toInts(b.features().get(Batch.INPUTS));
          int[] targets = Tensors.toInts(b.features().get(Batch.TARGETS));
          int[] decoder = Tensors.toInts(b.features().get(Batch.DECODER_INPUTS));
          for (int r = 0; r < 3; r++) {
            int k = inputs[r * 4] - 1;
            assertArrayEquals(new int[] {k + 1, k + 2, k + 3, 0}, slice(inputs, r * 4, 4), "inputs padded with 0");
            assertArrayEquals(new int[] {100 + k, 200 + k, 0}, slice(targets, r * 3, 3));
            assertArrayEquals(new int[] {0, 100 + k, 200 + k}, slice(decoder, r * 3, 3), "decoder inputs shifted");
          }
          sequential.add(inputs);
        }
      }
      // every epoch (10 records) is a permutation of all records
      Set<Integer> firstEpoch = new HashSet<>();
      for (int s = 0; s < 3; s++) {
        for (int r = 0; r < 3; r++) {
          firstEpoch.add(sequential.get(s)[r * 4]);
        }
      }
      assertEquals(9, firstEpoch.size(), "9 distinct records in the first 3 batches of a 10-record epoch");
    }
    // a fresh source asked for step 5 first gives the same batch as the sequential run
    try (TfRecordBatchSource src = new TfRecordBatchSource(
        TfRecordBatchSource.Options.tokens(files, ExampleKind.T5, shape, 7))) {
      for (int s : new int[] {5, 6, 2, 7}) {
        try (Batch b = src.nextBatch(s)) {
          assertArrayEquals(sequential.get(s), Tensors.toInts(b.features().get(Batch.INPUTS)), "step " + s);
        }
      }
    }
    try (TfRecordBatchSource other = new TfRecordBatchSource(
        TfRecordBatchSource.Options.tokens(files, ExampleKind.T5, shape, 8)); Batch b = other.nextBatch(0)) {
      assertNotEquals(List.of(sequential.get(0)), List.of(Tensors.toInts(b.features().get(Batch.INPUTS))),
          "another seed, another order");
    }
  }

  @Test
  void lmAndImageBatches(@TempDir Path dir) throws Exception {
    try (TfRecordBatchSource src = new TfRecordBatchSource(new TfRecordBatchSource.Options(tokenFiles(dir),
        ExampleKind.LM, new BatchShape(2, 3, 3), 0, 0, 0, 0, 1, 1, 1, 2, 0)); Batch b = src.nextBatch(0)) {
      int[] targets = Tensors.toInts(b.features().get(Batch.TARGETS));
      int[] inputs = Tensors.toInts(b.features().get(Batch.INPUTS));
      assertEquals(0, inputs[0]);
      assertEquals(targets[0], inputs[1], "LM inputs are targets shifted right");
    }
    Path images = dir.resolve("img.tfrecord");
    try (TfRecordWriter w = TfRecordWriter.create(images, Compression.NONE)) {
      for (int i = 0; i < 4; i++) {
        w.write(ExampleCodec.image(new ExampleCodec.ImageExample(new byte[] {(byte) 0, (byte) 255, (byte) (i * 10),
            (byte) 51}, i, 2, 2, 1)));
      }
    }
    try (TfRecordBatchSource src = new TfRecordBatchSource(TfRecordBatchSource.Options.images(List.of(images),
        new BatchShape(2, 1, 1), 2, 2, 1, 3).withShuffleBuffer(1)); Batch b = src.nextBatch(0)) {
      float[] px = Tensors.toFloats(b.features().get(Batch.IMAGES));
      int[] labels = Tensors.toInts(b.features().get(Batch.LABELS));
      assertEquals(0f, px[0]);
      assertEquals(1f, px[1], 1e-7f);
      assertEquals(labels[0] * 10 / 255f, px[2], 1e-6f);
      assertEquals(0.2f, px[3], 1e-6f);
    }
    try (TfRecordBatchSource src = new TfRecordBatchSource(TfRecordBatchSource.Options.images(List.of(images),
        new BatchShape(2, 1, 1), 3, 3, 1, 3))) {
      Exception e = assertThrows(RuntimeException.class, () -> src.nextBatch(0));
      assertTrue(e.getMessage().contains("img.tfrecord") && e.getMessage().contains("2x2x1"), e.getMessage());
    }
  }

  @Test
  void emptyFilesAreAClearError(@TempDir Path dir) throws Exception {
    Path empty = dir.resolve("empty.tfrecord");
    try (TfRecordWriter w = TfRecordWriter.create(empty, Compression.NONE)) {
      // nothing
    }
    assertTrue(Files.exists(empty));
    Exception e = assertThrows(IllegalArgumentException.class, () -> new TfRecordBatchSource(
        TfRecordBatchSource.Options.tokens(List.of(empty), ExampleKind.T5, new BatchShape(1, 2, 2), 1)));
    assertTrue(e.getMessage().contains("no records"), e.getMessage());
  }

  private static int[] slice(int[] a, int from, int n) {
    int[] out = new int[n];
    System.arraycopy(a, from, out, 0, n);
    return out;
  }
}
