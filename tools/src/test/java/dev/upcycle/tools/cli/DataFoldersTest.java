package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.tools.Main;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code data images} and {@code data tokenize} write folders (records + provenance) that {@code --data DIR} reads. */
class DataFoldersTest {

  @TempDir Path tmp;

  private static String run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
    assertEquals(0, code, String.join(" ", args) + ": " + err);
    return out.toString();
  }

  private static byte[] idx(int magic, int[] dims, byte[] data) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (DataOutputStream d = new DataOutputStream(b)) {
      d.writeInt(magic);
      for (int x : dims) {
        d.writeInt(x);
      }
      d.write(data);
    }
    return b.toByteArray();
  }

  @Test
  void imagesFolderHoldsTheRecordsAndItsProvenanceAndDataReadsOnlyTheRecords() throws Exception {
    Path images = Files.write(tmp.resolve("images.idx"), idx(0x00000803, new int[] {3, 2, 2}, new byte[12]));
    Path labels = Files.write(tmp.resolve("labels.idx"), idx(0x00000801, new int[] {3}, new byte[] {1, 2, 3}));
    Path out = tmp.resolve("data/train");
    String printed = run("data", "images", "--idx", images.toString(), "--labels", labels.toString(),
        "--out", out.toString());
    Path records = out.resolve("data.tfrecord-00000-of-00001");
    assertTrue(printed.contains("wrote 3 examples to " + records), printed);
    assertEquals(Provenance.Kind.IMAGES, Provenance.find(out).orElseThrow().kind());
    Files.createDirectory(out.resolve(".x.stage-1-0123456789ab")); // hidden: skipped
    assertEquals(List.of(records), DataSources.expand(List.of(out)));
  }

  @Test
  void tokenizeFolderLikewise() throws Exception {
    Path text = Files.writeString(tmp.resolve("corpus.txt"), "this is a test\nthose were tests\n");
    Path out = tmp.resolve("tok");
    run("data", "tokenize", "--spm", Fixtures.fixture("spm_seqio_test/sentencepiece.model").toString(),
        "--in", text.toString(), "--out", out.toString(), "--pack", "0", "--shards", "2");
    Provenance p = Provenance.find(out).orElseThrow();
    assertEquals(Provenance.Kind.TOKENIZE, p.kind());
    assertEquals(2, p.outputs().size());
    assertEquals(List.of(out.resolve("data.tfrecord-00000-of-00002"), out.resolve("data.tfrecord-00001-of-00002")),
        DataSources.expand(List.of(out)));
  }
}
