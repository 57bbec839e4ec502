package dev.upcycle.ckpt.tf;

import static dev.upcycle.ckpt.tf.Tensors.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.testing.Fuzz;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the TF tensor-bundle reader (docs/testing.md): mutants of the {@code .index}
 * file as bytes, of its entries (each {@code BundleEntryProto} mutated and the table rewritten, so
 * the block checksums hold and the entries themselves are what is tested), of the data file, and
 * of the {@code checkpoint} state file. Every outcome is a value or a {@link
 * CheckpointFormatException} naming a file of the bundle.
 */
class TfBundleFuzzTest {

  private static final int CASES = 200;
  private static final Duration PER_CASE = Duration.ofSeconds(10);

  @TempDir Path tmp;

  private Path dir;
  private Path prefix;
  private byte[] index;
  private byte[] data;
  private byte[] state;
  private List<TableReader.Entry> entries;

  @BeforeEach
  void writeBundle() throws IOException {
    dir = Files.createDirectories(tmp.resolve("ckpt"));
    prefix = dir.resolve("model.ckpt-7");
    try (TfBundleWriter w = TfBundleWriter.create(prefix)) {
      w.write(Tensors.i64("global_step", shape(), 7));
      w.write(Tensors.f32("encoder/block_000/layer_001/DenseReluDense/wi/kernel", shape(4, 8), Tensors.floats(32, 1)));
      w.write(Tensors.bf16("shared/embedding", shape(6, 4), new float[24]));
      w.write(Tensors.i32("ids", shape(3), 1, 2, 3));
      w.commit();
    }
    index = Files.readAllBytes(BundleFiles.index(prefix));
    data = Files.readAllBytes(BundleFiles.data(prefix, 0, 1));
    state = Files.readAllBytes(dir.resolve(CheckpointStateFile.FILE_NAME));
    entries = TableReader.readAll(BundleFiles.index(prefix));
  }

  /** Opens the folder as convert does and reads every tensor. */
  private void readAll() throws IOException {
    try (CheckpointReader r = CheckpointFormats.openStored(dir)) {
      for (TensorInfo t : r.tensors()) {
        RawTensor got = r.read(t.name());
        assertEquals(t.byteSize(), got.data().remaining(), t.toString());
      }
    }
  }

  private void restore() throws IOException {
    Files.write(BundleFiles.index(prefix), index);
    Files.write(BundleFiles.data(prefix, 0, 1), data);
    Files.write(dir.resolve(CheckpointStateFile.FILE_NAME), state);
  }

  private void fuzz(String what, byte[] input, Fuzz.Target write) throws IOException {
    restore();
    Fuzz.Summary s = Fuzz.run(what, input, Fuzz.cases(CASES), PER_CASE, (bytes, i) -> {
      write.accept(bytes, i);
      readAll();
    }, Fuzz.clearError(dir.toString(), CheckpointFormatException.class));
    assertTrue(s.errors() > 0, what + ": no mutant was refused: " + s);
  }

  @Test
  void indexFileMutants() throws IOException {
    fuzz("bundle index", index, (bytes, i) -> Files.write(BundleFiles.index(prefix), bytes));
  }

  @Test
  void indexEntryMutants() throws IOException {
    // one entry's proto bytes mutated at a time (entry i % n), the table rewritten with good checksums
    restore();
    Fuzz.Summary s = Fuzz.run("bundle index entries", i -> entryMutant(Fuzz.seed(), i), Fuzz.cases(CASES), PER_CASE,
        (bytes, i) -> {
          Files.write(BundleFiles.index(prefix), bytes);
          readAll();
        }, Fuzz.clearError(dir.toString(), CheckpointFormatException.class));
    assertTrue(s.errors() > 0, "index entries: " + s);
  }

  /** The index with entry {@code index % n}'s value replaced by its mutant {@code index}, checksums good. */
  private Fuzz.Mutant entryMutant(long seed, long index) {
    int which = (int) (index % entries.size());
    TableReader.Entry e = entries.get(which);
    Fuzz.Mutant value = Fuzz.mutant(e.value(), seed, index);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      TableWriter t = new TableWriter(out, 4096, 16);
      for (int k = 0; k < entries.size(); k++) {
        t.add(entries.get(k).key(), k == which ? value.bytes() : entries.get(k).value());
      }
      t.finish();
    } catch (IOException ex) {
      throw new java.io.UncheckedIOException(ex);
    }
    String key = new String(e.key(), StandardCharsets.UTF_8);
    return new Fuzz.Mutant(out.toByteArray(), "entry '" + key + "': " + value.how());
  }

  @Test
  void dataFileMutants() throws IOException {
    fuzz("bundle data", data, (bytes, i) -> Files.write(BundleFiles.data(prefix, 0, 1), bytes));
  }

  @Test
  void stateFileMutants() throws IOException {
    Fuzz.Summary s = Fuzz.run("checkpoint state file", state, Fuzz.cases(CASES), PER_CASE, (bytes, i) -> {
      Files.write(dir.resolve(CheckpointStateFile.FILE_NAME), bytes);
      readAll();
    }, Fuzz.clearError(dir.toString(), CheckpointFormatException.class));
    assertTrue(s.values() > 0 && s.errors() > 0, "state file: " + s);
  }

  /** Cases that found bugs, replayed under their own seed whatever the run's seed and count. */
  @Test
  void regressions() throws IOException {
    restore();
    // state file case 22 of seed 14: a NUL byte in model_checkpoint_path was a bare InvalidPathException
    Fuzz.Mutant m = Fuzz.mutant(state, 14, 22);
    Throwable t = Fuzz.runOne(m.bytes(), 22, PER_CASE, (bytes, i) -> {
      Files.write(dir.resolve(CheckpointStateFile.FILE_NAME), bytes);
      readAll();
    }, "checkpoint state file", 14, m.how());
    assertTrue(t instanceof CheckpointFormatException && t.getMessage().contains("is not a valid path"),
        m.how() + ": " + t);
    // entry case 1190 of seed 7: a header claiming 2^31 - 1 shards was an array of that many channels
    // and a loop over them (past the case limit)
    restore();
    Fuzz.Mutant header = entryMutant(7, 1190);
    Throwable h = Fuzz.runOne(header.bytes(), 1190, PER_CASE, (bytes, i) -> {
      Files.write(BundleFiles.index(prefix), bytes);
      readAll();
    }, "bundle index entries", 7, header.how());
    assertTrue(h == null || h instanceof CheckpointFormatException, header.how() + ": " + h);
  }

  @Test
  void theGoodBundleReads() throws IOException {
    readAll();
    assertEquals(5, entries.size(), "the header and four tensors");
    assertTrue(new String(state, StandardCharsets.UTF_8).startsWith("model_checkpoint_path: \"model.ckpt-7\""));
  }
}
