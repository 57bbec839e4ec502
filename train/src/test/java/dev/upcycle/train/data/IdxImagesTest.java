package dev.upcycle.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.Digests;
import dev.upcycle.provenance.Provenance;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxImagesTest {

  @TempDir Path tmp;

  private static final int N = 5;
  private static final int ROWS = 3;
  private static final int COLS = 4;

  private static byte pixel(int n, int r, int c) {
    return (byte) (n * 50 + r * 7 + c * 3);
  }

  private static byte[] idx(int magic, int[] dims, byte[] data) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bos);
    out.writeInt(magic);
    for (int d : dims) {
      out.writeInt(d);
    }
    out.write(data);
    out.flush();
    return bos.toByteArray();
  }

  private static void write(Path p, byte[] bytes, boolean gzip) throws IOException {
    try (OutputStream o = gzip ? new GZIPOutputStream(Files.newOutputStream(p))
        : Files.newOutputStream(p)) {
      o.write(bytes);
    }
  }

  private byte[] imageBytes() {
    byte[] px = new byte[N * ROWS * COLS];
    for (int n = 0; n < N; n++) {
      for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++) {
          px[(n * ROWS + r) * COLS + c] = pixel(n, r, c);
        }
      }
    }
    return px;
  }

  private static final byte[] LABELS = {9, 0, 3, (byte) 200, 7};

  @Test
  void convertsPlainAndGzipIdxToImageExamples() throws IOException {
    for (boolean gzip : new boolean[] {false, true}) {
      Path images = tmp.resolve("images-" + gzip);
      Path labels = tmp.resolve("labels-" + gzip);
      write(images, idx(0x00000803, new int[] {N, ROWS, COLS}, imageBytes()), gzip);
      write(labels, idx(0x00000801, new int[] {N}, LABELS), gzip);
      Path folder = tmp.resolve("out-" + gzip);
      IdxImages.Output written = IdxImages.toTfRecordFolder(images, labels, folder, Compression.GZIP);
      assertEquals(N, written.examples());
      assertEquals(folder.resolve("data.tfrecord-00000-of-00001.gz"), written.records());
      assertEquals(folder, written.folder());
      Provenance prov = Provenance.find(folder).orElseThrow();
      assertEquals(Provenance.Kind.IMAGES, prov.kind());
      assertEquals(images.toString(), prov.source().path());
      assertEquals(Digests.sha256(images), prov.source().sha256());
      assertEquals(Digests.sha256(labels), prov.options().get("labels").get("sha256").asText());
      assertEquals("gzip", prov.options().get("compression").asText());
      assertEquals(List.of(new Provenance.OutputFile("data.tfrecord-00000-of-00001.gz", Files.size(written.records()))),
          prov.outputs());
      try (var files = Files.list(folder)) {
        assertEquals(2, files.count(), "the records and provenance.json");
      }
      Path out = written.records();
      try (TfRecordReader r = TfRecordReader.open(out)) {
        for (int n = 0; n < N; n++) {
          ExampleCodec.ImageExample ex = ExampleCodec.parseImage(r.readNext(), out.toString(), n);
          assertEquals(ROWS, ex.height());
          assertEquals(COLS, ex.width());
          assertEquals(1, ex.channels());
          assertEquals(LABELS[n] & 0xff, ex.label());
          byte[] expected = new byte[ROWS * COLS];
          for (int rr = 0; rr < ROWS; rr++) {
            for (int c = 0; c < COLS; c++) {
              expected[rr * COLS + c] = pixel(n, rr, c);
            }
          }
          assertArrayEquals(expected, ex.pixels(), "image " + n);
        }
        assertFalse(r.hasNext());
      }
    }
  }

  @Test
  void readerReportsHeader() throws IOException {
    Path images = tmp.resolve("i");
    write(images, idx(0x00000803, new int[] {N, ROWS, COLS}, imageBytes()), true);
    try (IdxImages.Reader r = IdxImages.Reader.open(images)) {
      assertArrayEquals(new int[] {N, ROWS, COLS}, r.dims());
      assertEquals(IdxImages.IMAGES_MAGIC, r.magic());
    }
  }

  @Test
  void mismatchedCountsWrongMagicAndTruncationAreClearErrors() throws IOException {
    Path images = tmp.resolve("images");
    Path labels = tmp.resolve("labels");
    Path out = tmp.resolve("out");
    write(images, idx(0x00000803, new int[] {N, ROWS, COLS}, imageBytes()), false);
    write(labels, idx(0x00000801, new int[] {N - 1}, Arrays.copyOf(LABELS, N - 1)), false);
    IOException e = assertThrows(IOException.class,
        () -> IdxImages.toTfRecordFolder(images, labels, out, Compression.NONE));
    assertTrue(e.getMessage().contains("5 images") && e.getMessage().contains("4 labels"),
        e.getMessage());

    e = assertThrows(IOException.class,
        () -> IdxImages.toTfRecordFolder(labels, images, out, Compression.NONE));
    assertTrue(e.getMessage().contains("expected images"), e.getMessage());

    write(labels, idx(0x00000801, new int[] {N}, LABELS), false);
    byte[] full = idx(0x00000803, new int[] {N, ROWS, COLS}, imageBytes());
    write(images, Arrays.copyOf(full, full.length - 5), false);
    e = assertThrows(IOException.class,
        () -> IdxImages.toTfRecordFolder(images, labels, out, Compression.NONE));
    assertTrue(e.getMessage().contains("item 4 of 5"), e.getMessage());
    assertFalse(Files.exists(out), "no half-written output");
    try (var files = Files.list(tmp)) {
      assertTrue(files.noneMatch(AtomicFolder::isStage), "the stage was removed");
    }

    write(images, full, false);
    Files.createDirectory(out);
    FileAlreadyExistsException exists = assertThrows(FileAlreadyExistsException.class,
        () -> IdxImages.toTfRecordFolder(images, labels, out, Compression.NONE));
    assertTrue(exists.getMessage().contains(out.toString()), exists.getMessage());
  }
}
