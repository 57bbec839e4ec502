package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.SafetensorsReaderTest.f32;
import static dev.upcycle.ckpt.hf.SafetensorsReaderTest.shorts;
import static dev.upcycle.ckpt.hf.SafetensorsTestWriter.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.testing.Fuzz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the Hugging Face weight readers (docs/testing.md): mutants of a safetensors
 * file, of a sharded index ({@code model.safetensors.index.json}) and of a Flax msgpack file, each
 * opened and read tensor by tensor. Every outcome is a value or a {@link CheckpointFormatException}
 * naming a file of the folder.
 */
class SafetensorsFuzzTest {

  private static final int CASES = 200;
  private static final Duration PER_CASE = Duration.ofSeconds(10);

  private static final RawTensor A = raw("encoder.block.0.layer.0.SelfAttention.q.weight", DType.FLOAT32,
      new long[] {2, 2}, f32(1, 2, 3, 4));
  private static final RawTensor B = raw("shared.weight", DType.BFLOAT16, new long[] {3}, shorts(0x3F80, 1, 0x7FC1));
  private static final RawTensor C = raw("scale", DType.FLOAT16, new long[0], shorts(0x3C00));

  @TempDir Path tmp;

  private static void readAll(CheckpointReader r) throws IOException {
    try (r) {
      for (TensorInfo t : r.tensors()) {
        if (t.dtype() != DType.UNREADABLE) {
          assertEquals(t.byteSize(), r.read(t.name()).data().remaining(), t.toString());
        }
      }
    }
  }

  private void fuzz(String what, Path file, Fuzz.Target open) throws Exception {
    byte[] input = Files.readAllBytes(file);
    open.accept(input, -1); // the good file reads
    Fuzz.Summary s = Fuzz.run(what, input, Fuzz.cases(CASES), PER_CASE, open,
        Fuzz.clearError(file.getParent().toString(), CheckpointFormatException.class));
    assertTrue(s.errors() > 0, what + ": no mutant was refused: " + s);
  }

  @Test
  void safetensorsFileMutants() throws Exception {
    Path file = Files.createDirectories(tmp.resolve("single")).resolve(HfFolders.SAFETENSORS);
    SafetensorsTestWriter.write(file, List.of(A, B, C), Map.of("format", "pt"));
    fuzz("safetensors", file, (bytes, i) -> {
      Files.write(file, bytes);
      readAll(SafetensorsReader.open(file));
    });
  }

  @Test
  void shardedIndexMutants() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("sharded"));
    Path index = SafetensorsTestWriter.writeSharded(dir, List.of(List.of(A), List.of(B, C)));
    fuzz("safetensors index", index, (bytes, i) -> {
      Files.write(index, bytes);
      readAll(SafetensorsShardedReader.open(index));
    });
  }

  /** Cases that found bugs, replayed under their own seed whatever the run's seed and count. */
  @Test
  void regressions() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("sharded"));
    Path index = SafetensorsTestWriter.writeSharded(dir, List.of(List.of(A), List.of(B, C)));
    // index case 1657 of seed 14: bytes a JSON parser took for UTF-32, a bare CharConversionException
    Fuzz.Mutant m = Fuzz.mutant(Files.readAllBytes(index), 14, 1657);
    Throwable t = Fuzz.runOne(m.bytes(), 1657, PER_CASE, (bytes, i) -> {
      Files.write(index, bytes);
      readAll(SafetensorsShardedReader.open(index));
    }, "safetensors index", 14, m.how());
    assertTrue(t instanceof CheckpointFormatException && t.getMessage().contains("is not UTF-8 text"), m.how() + ": " + t);
  }

  @Test
  void flaxMsgpackMutants() throws Exception {
    Path file = Files.createDirectories(tmp.resolve("flax")).resolve(HfFolders.FLAX);
    FlaxMsgpackTestWriter.write(file, List.of(A, B, C));
    fuzz("flax msgpack", file, (bytes, i) -> {
      Files.write(file, bytes);
      readAll(HfFlaxReader.open(file));
    });
  }
}
