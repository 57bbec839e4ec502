package dev.upcycle.ckpt.t5x;

import static dev.upcycle.ckpt.t5x.TestMsgpack.map;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.testing.Fuzz;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the T5X reader (docs/testing.md): mutants of the msgpack file, of a zarr chunk
 * and of a {@code .zarray}, each opened as {@code inspect} and {@code convert} open a source and
 * read tensor by tensor. Every outcome is a value or a {@link CheckpointFormatException} naming a
 * file of the checkpoint.
 */
class T5xFuzzTest {

  private static final int CASES = 200;
  private static final Duration PER_CASE = Duration.ofSeconds(10);

  @TempDir Path tmp;

  private Path good;
  private Path dir;

  @BeforeEach
  void writeCheckpoint() throws IOException {
    // written by our writer (zarr arrays, inline scalars), plus flax inline arrays and a chunked one
    good = Files.createDirectories(tmp.resolve("good/checkpoint_3"));
    Random rnd = new Random(3);
    try (T5xCheckpointWriter w = T5xCheckpointWriter.create(good, 64)) {
      w.write(random(rnd, "target/encoder/layers_0/mlp/wi_0/kernel", DType.FLOAT32, 4, 6)); // several chunks
      w.write(random(rnd, "target/encoder/encoder_norm/scale", DType.BFLOAT16, 4));
      w.write(random(rnd, "state/param_states/encoder/layers_0/mlp/wi_0/kernel/v_row", DType.FLOAT32, 4));
      w.write(random(rnd, "state/param_states/encoder/layers_0/mlp/wi_0/kernel/v_col", DType.FLOAT32, 6));
      w.write(random(rnd, "state/step", DType.INT32));
      w.commit();
    }
    dir = Files.createDirectories(tmp.resolve("case/checkpoint_3"));
  }

  private static RawTensor random(Random rnd, String name, DType dtype, long... shape) {
    TensorInfo info = new TensorInfo(name, dtype, shape);
    byte[] b = new byte[(int) info.byteSize()];
    rnd.nextBytes(b);
    return new RawTensor(info, ByteBuffer.wrap(b));
  }

  /** What a user's command does with a source: open it as convert does, read every tensor. */
  private static void readAll(Path source) throws IOException {
    try (CheckpointReader r = CheckpointFormats.openStored(source)) {
      for (TensorInfo t : r.tensors()) {
        RawTensor got = r.read(t.name());
        assertTrue(got.info().byteSize() == got.data().remaining(), t.toString());
      }
    }
  }

  /** The case folder holds a copy of the good checkpoint. */
  private void resetCase() throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(dir)).forEach(p -> p.toFile().delete());
    }
    try (Stream<Path> walk = Files.walk(good)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path to = dir.resolve(good.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
  }

  private void fuzzFile(String what, Path relative, byte[] input) throws IOException {
    resetCase();
    Fuzz.Summary s = Fuzz.run(what, input, Fuzz.cases(CASES), PER_CASE, target(relative),
        Fuzz.clearError(dir.toString(), CheckpointFormatException.class));
    assertTrue(s.errors() > 0, what + ": no mutant was refused: " + s);
  }

  private Fuzz.Target target(Path relative) {
    return (bytes, i) -> {
      Files.write(dir.resolve(relative.toString()), bytes);
      readAll(dir);
    };
  }

  /** Cases that found bugs, replayed under their own seed whatever the run's seed and count. */
  @Test
  void regressions() throws IOException {
    Path zarray = Path.of("target.encoder.layers_0.mlp.wi_0.kernel", ".zarray");
    byte[] input = Files.readAllBytes(good.resolve(zarray.toString()));
    resetCase();
    long[][] cases = {{14, 1152}}; // .zarray not Unicode text: a bare CharConversionException
    for (long[] c : cases) {
      Fuzz.Mutant m = Fuzz.mutant(input, c[0], c[1]);
      Throwable t = Fuzz.runOne(m.bytes(), c[1], PER_CASE, target(zarray), ".zarray", c[0], m.how());
      assertTrue(t instanceof CheckpointFormatException && t.getMessage().contains(dir.toString()),
          "seed " + c[0] + " case " + c[1] + " (" + m.how() + "): " + t);
    }
  }

  @Test
  void msgpackMutants() throws IOException {
    Path msgpack = Path.of(T5xCheckpointReader.MSGPACK_FILE);
    fuzzFile("t5x msgpack", msgpack, Files.readAllBytes(good.resolve(msgpack.toString())));
  }

  @Test
  void inlineArrayMutants() throws IOException {
    // flax's own leaves: ndarray (ext 1), numpy scalar (ext 3), a chunked array, plain numbers
    Map<String, Object> chunked = map("__msgpack_chunked_array__", true, "shape", map("0", 2L, "1", 2L),
        "chunks", map("0", TestMsgpack.ndarray(1, new long[] {3}, "int32", new byte[12]),
            "1", TestMsgpack.ndarray(1, new long[] {1}, "int32", new byte[4])));
    byte[] tree = TestMsgpack.bytes(map("version", 3L, "optimizer", map("target", map(
        "a", TestMsgpack.ndarray(1, new long[] {2, 3}, "float32", new byte[24]),
        "b", TestMsgpack.ndarray(3, new long[0], "bfloat16", new byte[2]),
        "c", chunked, "d", 7L, "e", 1.5, "f", true))));
    Path inline = Files.createDirectories(tmp.resolve("inline/checkpoint_1"));
    Fuzz.Summary s = Fuzz.run("t5x inline arrays", tree, Fuzz.cases(CASES), PER_CASE, (bytes, i) -> {
      Files.write(inline.resolve(T5xCheckpointReader.MSGPACK_FILE), bytes);
      readAll(inline);
    }, Fuzz.clearError(inline.toString(), CheckpointFormatException.class));
    assertTrue(s.errors() > 0 && s.values() > 0, "t5x inline arrays: " + s);
  }

  @Test
  void zarrChunkMutants() throws IOException {
    Path chunk = Path.of("target.encoder.layers_0.mlp.wi_0.kernel", "0.0");
    fuzzFile("zarr chunk", chunk, Files.readAllBytes(good.resolve(chunk.toString())));
  }

  @Test
  void zarrayMutants() throws IOException {
    Path zarray = Path.of("target.encoder.layers_0.mlp.wi_0.kernel", ".zarray");
    fuzzFile(".zarray", zarray, Files.readAllBytes(good.resolve(zarray.toString())));
  }

  @Test
  void theGoodCheckpointReads() throws IOException {
    readAll(good);
    try (CheckpointReader r = CheckpointFormats.openStored(good)) {
      assertTrue(r.tensors().size() == 5 && r.read("target/encoder/encoder_norm/scale").info().dtype()
          == DType.BFLOAT16, r.tensors().toString());
    }
    List<Path> chunks;
    try (Stream<Path> s = Files.list(good.resolve("target.encoder.layers_0.mlp.wi_0.kernel"))) {
      chunks = s.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
    }
    assertTrue(chunks.size() > 1, "the fuzzed tensor has several chunks: " + chunks);
  }
}
