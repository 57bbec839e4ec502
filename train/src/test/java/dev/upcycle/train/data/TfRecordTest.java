package dev.upcycle.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.model.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;

class TfRecordTest {

  @TempDir Path tmp;

  private static List<byte[]> readAll(Path file) throws IOException {
    List<byte[]> out = new ArrayList<>();
    try (TfRecordReader r = TfRecordReader.open(file)) {
      for (byte[] rec; (rec = r.readNext()) != null; ) {
        out.add(rec);
      }
    }
    return out;
  }

  @Test
  void readsPegasusFixtureWrittenByTensorFlow() throws IOException {
    Path file = Fixtures.fixture("tfrecord_pegasus/data.tfrecord");
    List<byte[]> records = readAll(file);
    assertEquals(5, records.size());
    for (int i = 0; i < records.size(); i++) {
      Example ex = ExampleCodec.parse(records.get(i), file.toString(), i);
      Feature inputs = ExampleCodec.feature(ex, "inputs", Feature.KindCase.BYTES_LIST, "f", i);
      Feature targets = ExampleCodec.feature(ex, "targets", Feature.KindCase.BYTES_LIST, "f", i);
      assertEquals("input string.", inputs.getBytesList().getValue(0).toStringUtf8());
      assertEquals("target string.", targets.getBytesList().getValue(0).toStringUtf8());
    }
    try (TfRecordReader r = TfRecordReader.open(file)) {
      assertEquals(Compression.NONE, r.compression());
    }
  }

  @Test
  void rewritingPegasusPayloadsReproducesTheFileByteForByte() throws IOException {
    Path file = Fixtures.fixture("tfrecord_pegasus/data.tfrecord");
    Path out = tmp.resolve("copy.tfrecord");
    try (TfRecordWriter w = TfRecordWriter.create(out, Compression.NONE)) {
      for (byte[] rec : readAll(file)) {
        w.write(rec);
      }
    }
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(out));
  }

  @Test
  void readsGzipPenguinFixture() throws IOException {
    Path train = Fixtures.fixture("tfrecord_tfx_penguin/Split-train/data_tfrecord-00000-of-00001.gz");
    Path eval = Fixtures.fixture("tfrecord_tfx_penguin/Split-eval/data_tfrecord-00000-of-00001.gz");
    assertEquals(234, readAll(train).size());
    assertEquals(100, readAll(eval).size());
    Set<Long> species = new TreeSet<>();
    int i = 0;
    try (TfRecordReader r = TfRecordReader.open(train)) {
      assertEquals(Compression.GZIP, r.compression());
      while (r.hasNext()) {
        Example ex = ExampleCodec.parse(r.next(), train.toString(), i);
        species.add(ExampleCodec.scalar(ex, "species", train.toString(), i));
        i++;
      }
    }
    assertEquals(Set.of(0L, 1L, 2L), species);
    Example first = ExampleCodec.parse(readAll(train).get(0), train.toString(), 0);
    assertEquals(0.29166666f, ExampleCodec.feature(first, "body_mass_g",
        Feature.KindCase.FLOAT_LIST, "f", 0).getFloatList().getValue(0), 1e-7f);
  }

  @Test
  void roundTripPlainAndGzip() throws IOException {
    Random rnd = new Random(7);
    List<byte[]> payloads = new ArrayList<>();
    payloads.add(new byte[0]);
    for (int i = 0; i < 50; i++) {
      byte[] b = new byte[rnd.nextInt(i == 10 ? 200_000 : 300)];
      rnd.nextBytes(b);
      payloads.add(b);
    }
    for (Compression c : Compression.values()) {
      Path out = tmp.resolve("rt-" + c + ".tfrecord");
      try (TfRecordWriter w = TfRecordWriter.create(out, c)) {
        for (byte[] p : payloads) {
          w.write(p);
        }
        assertEquals(payloads.size(), w.records());
      }
      assertTrue(Files.exists(out));
      byte[] head = Files.readAllBytes(out);
      assertEquals(c == Compression.GZIP, (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b);
      List<byte[]> back = readAll(out);
      assertEquals(payloads.size(), back.size());
      for (int i = 0; i < payloads.size(); i++) {
        assertArrayEquals(payloads.get(i), back.get(i), "record " + i);
      }
    }
    try (Stream<Path> files = Files.list(tmp)) {
      assertEquals(List.of("rt-GZIP.tfrecord", "rt-NONE.tfrecord"),
          files.map(p -> p.getFileName().toString()).sorted().toList(), "the files written, nothing else");
    }
  }

  @Test
  void writesOnlyNewFilesAndAnAbandonedStageLeavesNothing() throws IOException {
    Path existing = Files.writeString(tmp.resolve("existing.tfrecord"), "x");
    assertThrows(java.nio.file.FileAlreadyExistsException.class,
        () -> TfRecordWriter.create(existing, Compression.NONE));
    Path folder = tmp.resolve("abandoned");
    try (AtomicFolder out = AtomicFolder.stage(folder, false);
        TfRecordWriter w = TfRecordWriter.create(out.path().resolve("data.tfrecord"), Compression.NONE)) {
      w.write("x".getBytes(StandardCharsets.UTF_8));
    }
    try (Stream<Path> files = Files.list(tmp)) {
      assertEquals(List.of(existing), files.toList(), "neither the folder nor its stage");
    }
    assertEquals("x", Files.readString(existing));
  }

  @Test
  void corruptDataByteIsReportedWithFileRecordAndOffset() throws IOException {
    Path copy = Fixtures.copyTo("tfrecord_pegasus/data.tfrecord", tmp);
    byte[] bytes = Files.readAllBytes(copy);
    // Each record here is 12 + 62 + 4 = 78 bytes; corrupt a data byte of record 2.
    bytes[2 * 78 + 12 + 20] ^= 0x01;
    Files.write(copy, bytes);
    try (TfRecordReader r = TfRecordReader.open(copy)) {
      assertTrue(r.readNext() != null);
      assertTrue(r.readNext() != null);
      IOException e = assertThrows(IOException.class, r::readNext);
      assertTrue(e.getMessage().contains(copy.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("record 2 at byte offset 156"), e.getMessage());
      assertTrue(e.getMessage().contains("data CRC mismatch"), e.getMessage());
    }
  }

  @Test
  void corruptLengthAndTruncationAreReported() throws IOException {
    Path copy = Fixtures.copyTo("tfrecord_pegasus/data.tfrecord", tmp);
    byte[] bytes = Files.readAllBytes(copy);
    byte[] badLength = bytes.clone();
    badLength[78 + 1] ^= 0x40;
    Files.write(copy, badLength);
    try (TfRecordReader r = TfRecordReader.open(copy)) {
      r.next();
      UncheckedIOException e = assertThrows(UncheckedIOException.class, r::hasNext);
      assertTrue(e.getMessage().contains("record 1 at byte offset 78"), e.getMessage());
      assertTrue(e.getMessage().contains("length CRC mismatch"), e.getMessage());
    }
    Files.write(copy, java.util.Arrays.copyOf(bytes, bytes.length - 30));
    try (TfRecordReader r = TfRecordReader.open(copy)) {
      assertEquals(4, r.skip(4));
      IOException e = assertThrows(IOException.class, r::readNext);
      assertTrue(e.getMessage().contains("record 4 at byte offset 312"), e.getMessage());
      assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }
  }

  @Test
  void emptyFileHasNoRecords() throws IOException {
    Path empty = Files.createFile(tmp.resolve("empty.tfrecord"));
    try (TfRecordReader r = TfRecordReader.open(empty)) {
      assertFalse(r.hasNext());
      assertNull(r.readNext());
    }
  }
}
