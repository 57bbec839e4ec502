package dev.upcycle.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fuzz;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the TFRecord reader and the {@code tf.train.Example} decoding behind {@code
 * train} and {@code eval} (docs/testing.md): mutants of a plain and of a GZIP file of token
 * examples and of a file of image examples, and length fields replaced with boundary values under a
 * recomputed length CRC (so the reader trusts them and must not allocate what they claim). Every
 * outcome is a value or a clear error naming the file: an {@link IOException} (its {@link
 * UncheckedIOException} from the iterator) or an {@link ExampleFormatException}.
 */
class TfRecordFuzzTest {

  private static final int CASES = 250;
  private static final Duration PER_CASE = Duration.ofSeconds(10);
  private static final long[] LENGTHS = {0, 1, 7, 255, 65_535, 1L << 24, Integer.MAX_VALUE - 17L,
      Integer.MAX_VALUE, 1L << 32, Long.MAX_VALUE, -1};

  @TempDir Path tmp;

  private Path write(String name, Compression compression, boolean images) throws IOException {
    Path file = tmp.resolve(name);
    Random rnd = new Random(5);
    try (TfRecordWriter w = TfRecordWriter.create(file, compression)) {
      for (int i = 0; i < 6; i++) {
        if (images) {
          byte[] pixels = new byte[2 * 3 * 1];
          rnd.nextBytes(pixels);
          w.write(ExampleCodec.image(new ExampleCodec.ImageExample(pixels, i % 3, 2, 3, 1)));
        } else {
          int[] inputs = rnd.ints(3 + i, 0, 100).toArray();
          w.write(ExampleCodec.tokens(inputs, rnd.ints(2, 0, 100).toArray()));
        }
      }
    }
    return file;
  }

  /** Reads every record and decodes it, as the input pipeline does. */
  private static int decodeAll(Path file, boolean images) throws IOException {
    int n = 0;
    try (TfRecordReader r = TfRecordReader.open(file)) {
      for (byte[] rec; (rec = r.readNext()) != null; n++) {
        if (images) {
          ExampleCodec.parseImage(rec, file.toString(), r.recordIndex() - 1);
        } else {
          ExampleCodec.parseTokens(rec, file.toString(), r.recordIndex() - 1);
        }
      }
    }
    return n;
  }

  private void fuzz(String what, Path good, boolean images, Fuzz.Target mutate) throws Exception {
    assertEquals(6, decodeAll(good, images), "the good file");
    byte[] input = Files.readAllBytes(good);
    Path file = tmp.resolve("case-" + good.getFileName());
    Fuzz.Summary s = Fuzz.run(what, input, Fuzz.cases(CASES), PER_CASE, (bytes, i) -> {
      Files.write(file, bytes);
      mutate.accept(bytes, i);
      decodeAll(file, images);
    }, Fuzz.clearError(file.toString(), IOException.class, UncheckedIOException.class,
        ExampleFormatException.class));
    assertTrue(s.errors() > 0, what + ": no mutant was refused: " + s);
  }

  @Test
  void plainFileMutants() throws Exception {
    fuzz("tfrecord", write("tokens.tfrecord", Compression.NONE, false), false, (b, i) -> { });
  }

  @Test
  void gzipFileMutants() throws Exception {
    fuzz("tfrecord.gz", write("tokens.tfrecord.gz", Compression.GZIP, false), false, (b, i) -> { });
  }

  @Test
  void imageExampleMutants() throws Exception {
    fuzz("image tfrecord", write("images.tfrecord", Compression.NONE, true), true, (b, i) -> { });
  }

  @Test
  void lengthFieldsWithValidCrcs() throws Exception {
    Path good = write("lengths.tfrecord", Compression.NONE, false);
    byte[] input = Files.readAllBytes(good);
    Path file = tmp.resolve("case-lengths.tfrecord");
    Fuzz.Summary s = Fuzz.run("tfrecord length fields", i -> withLength(input, Fuzz.seed(), i), Fuzz.cases(CASES),
        PER_CASE, (bytes, i) -> {
          Files.write(file, bytes);
          decodeAll(file, false);
        }, Fuzz.clearError(file.toString(), IOException.class, ExampleFormatException.class));
    assertTrue(s.errors() > 0, "length fields: " + s);
  }

  /**
   * Case 4 of seed 14 of the length fields: a first record claiming 2^31 - 18 bytes under a valid
   * CRC made the reader allocate 2 GiB and ran past the per-case limit.
   */
  @Test
  void regressions() throws Exception {
    byte[] input = Files.readAllBytes(write("lengths.tfrecord", Compression.NONE, false));
    Path file = tmp.resolve("case-lengths.tfrecord");
    Fuzz.Mutant m = withLength(input, 14, 4);
    Throwable t = Fuzz.runOne(m.bytes(), 4, PER_CASE, (bytes, i) -> {
      Files.write(file, bytes);
      decodeAll(file, false);
    }, "tfrecord length fields", 14, m.how());
    assertTrue(t instanceof IOException && t.getMessage().contains("truncated record"), m.how() + ": " + t);
  }

  /** The first record's length set to a boundary value (+-2), its length CRC made to match. */
  private static Fuzz.Mutant withLength(byte[] file, long seed, long index) {
    Random r = new Random(seed * 31 + index);
    long length = LENGTHS[r.nextInt(LENGTHS.length)] + r.nextInt(5) - 2;
    byte[] b = file.clone();
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (length >>> (8 * i));
    }
    int crc = Crc32c.masked(b, 0, 8);
    for (int i = 0; i < 4; i++) {
      b[8 + i] = (byte) (crc >>> (8 * i));
    }
    return new Fuzz.Mutant(b, "first record's length set to " + length + " under a matching length CRC");
  }
}
