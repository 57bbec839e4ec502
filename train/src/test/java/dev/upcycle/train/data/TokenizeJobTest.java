package dev.upcycle.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.Digests;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.train.text.SentencePieceModel;
import dev.upcycle.train.text.SpanCorruption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Example;

class TokenizeJobTest {

  static Path spmFile;
  static SentencePieceModel spm;
  @TempDir Path tmp;

  @BeforeAll
  static void load() throws IOException {
    spmFile = Fixtures.fixture("spm_seqio_test/sentencepiece.model");
    spm = SentencePieceModel.load(spmFile);
  }

  private Path writeText() throws IOException {
    List<String> lines = new ArrayList<>();
    String[] words = {"this", "is", "a", "test", "that", "was", "those", "were", "tests",
        "validation", "complete:"};
    java.util.Random r = new java.util.Random(4);
    for (int i = 0; i < 60; i++) {
      StringBuilder sb = new StringBuilder();
      int n = 1 + r.nextInt(i % 7 == 0 ? 40 : 8);
      for (int k = 0; k < n; k++) {
        sb.append(words[r.nextInt(words.length)]).append(' ');
      }
      lines.add(sb.toString());
      if (i % 10 == 0) {
        lines.add("   ");
      }
    }
    Path text = tmp.resolve("corpus.txt");
    Files.write(text, lines, StandardCharsets.UTF_8);
    return text;
  }

  private static List<Example> readAll(List<Path> shards) throws IOException {
    List<Example> out = new ArrayList<>();
    for (Path s : shards) {
      try (TfRecordReader r = TfRecordReader.open(s)) {
        for (byte[] b; (b = r.readNext()) != null; ) {
          out.add(ExampleCodec.parse(b, s.toString(), r.recordIndex() - 1));
        }
      }
    }
    return out;
  }

  /** Token chunks the job should have corrupted: each document's ids cut every {@code step}. */
  private static List<String> expectedChunks(Path text, int step) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(text)) {
      if (line.isBlank()) {
        continue;
      }
      int[] ids = spm.encode(line);
      for (int from = 0; from < ids.length; from += step) {
        out.add(Arrays.toString(Arrays.copyOfRange(ids, from, Math.min(ids.length, from + step))));
      }
    }
    out.sort(null);
    return out;
  }

  private static int[] segment(int[] tokens, int[] seg, int id) {
    return java.util.stream.IntStream.range(0, tokens.length).filter(i -> seg[i] == id)
        .map(i -> tokens[i]).toArray();
  }

  /** Original chunk from corrupted inputs/targets (sentinels are ids >= the spm vocab size). */
  private static int[] reconstruct(int[] inputs, int[] targets) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < inputs.length - 1; i++) {
      if (inputs[i] < spm.vocabSize()) {
        out.add(inputs[i]);
        continue;
      }
      int k = 0;
      while (targets[k] != inputs[i]) {
        k++;
      }
      for (k++; k < targets.length - 1 && targets[k] < spm.vocabSize(); k++) {
        out.add(targets[k]);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  @Test
  void spanCorruptedPackedShardsRebuildTheText() throws IOException {
    Path text = writeText();
    Path out = tmp.resolve("out");
    AtomicLong lastRead = new AtomicLong(-1);
    AtomicLong calls = new AtomicLong();
    TokenizeJob.Result res = TokenizeJob.tokenize(spmFile, List.of(text), out,
        TokenizeJob.Options.of(32, true, 7, 2), (read, total, ex) -> {
          assertTrue(read <= total);
          assertTrue(read >= lastRead.get());
          lastRead.set(read);
          calls.incrementAndGet();
        });
    assertEquals(Files.size(text), lastRead.get());
    assertTrue(calls.get() >= 1);
    assertEquals(2, res.shards().size());
    assertEquals(out.toAbsolutePath().normalize(), res.outDir());
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(s.noneMatch(AtomicFolder::isStage));
    }
    assertEquals(spm.vocabSize() + 100, res.vocabSize());
    Provenance prov = Provenance.find(out).orElseThrow();
    assertEquals(Provenance.Kind.TOKENIZE, prov.kind());
    assertEquals(spmFile.toAbsolutePath().normalize().toString(), prov.source().path());
    assertEquals(Digests.sha256(spmFile), prov.source().sha256());
    assertEquals(32, prov.options().get("pack_length").asInt());
    assertEquals(7, prov.options().get("seed").asLong());
    assertEquals(text.toAbsolutePath().normalize().toString(), prov.options().get("text_files").get(0).get("path").asText());
    assertEquals(res.shards().stream().map(p -> p.getFileName().toString()).toList(),
        prov.outputs().stream().map(Provenance.OutputFile::path).toList());
    assertEquals(Files.size(res.shards().get(0)), prov.outputs().get(0).bytes());
    assertEquals(60, res.documents());
    SpanCorruption.Lengths lengths = SpanCorruption.lengthsFor(32, 0.15, 3.0);
    assertEquals(lengths.targetsLength(), res.targetsLength());

    List<String> rebuilt = new ArrayList<>();
    List<Example> examples = readAll(res.shards());
    assertEquals(res.examples(), examples.size());
    for (Example ex : examples) {
      int[] in = ExampleCodec.int64s(ex, "inputs", "out", 0);
      int[] tg = ExampleCodec.int64s(ex, "targets", "out", 0);
      int[] inSeg = ExampleCodec.int64s(ex, "inputs_segment_ids", "out", 0);
      int[] tgSeg = ExampleCodec.int64s(ex, "targets_segment_ids", "out", 0);
      int[] inPos = ExampleCodec.int64s(ex, "inputs_positions", "out", 0);
      assertEquals(32, in.length);
      assertEquals(lengths.targetsLength(), tg.length);
      int segs = Arrays.stream(inSeg).max().orElse(0);
      for (int s = 1; s <= segs; s++) {
        int[] i = segment(in, inSeg, s);
        int[] t = segment(tg, tgSeg, s);
        assertEquals(spm.eosId(), i[i.length - 1]);
        assertEquals(spm.eosId(), t[t.length - 1]);
        rebuilt.add(Arrays.toString(reconstruct(i, t)));
      }
      for (int k = 0; k < in.length; k++) {
        assertEquals(inSeg[k] == 0 || k == 0 || inSeg[k - 1] != inSeg[k] ? 0 : inPos[k - 1] + 1,
            inPos[k]);
      }
    }
    rebuilt.sort(null);
    assertEquals(res.segments(), rebuilt.size());
    assertEquals(expectedChunks(text, lengths.tokensLength()), rebuilt);
  }

  @Test
  void sameSeedSameBytesOtherSeedDifferentBytes() throws IOException {
    Path text = writeText();
    TokenizeJob.Result a = TokenizeJob.tokenize(spmFile, List.of(text), tmp.resolve("a"),
        TokenizeJob.Options.of(32, true, 1, 3), TokenizeJob.Progress.NONE);
    TokenizeJob.Result b = TokenizeJob.tokenize(spmFile, List.of(text), tmp.resolve("b"),
        TokenizeJob.Options.of(32, true, 1, 3), TokenizeJob.Progress.NONE);
    TokenizeJob.Result c = TokenizeJob.tokenize(spmFile, List.of(text), tmp.resolve("c"),
        TokenizeJob.Options.of(32, true, 2, 3), TokenizeJob.Progress.NONE);
    boolean anyDiff = false;
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(Files.readAllBytes(a.shards().get(i)), Files.readAllBytes(b.shards().get(i)));
      anyDiff |= !Arrays.equals(Files.readAllBytes(a.shards().get(i)),
          Files.readAllBytes(c.shards().get(i)));
    }
    assertTrue(anyDiff);
  }

  @Test
  void languageModelUnpackedGzipWritesOneExamplePerDocument() throws IOException {
    Path text = writeText();
    TokenizeJob.Result res = TokenizeJob.tokenize(spmFile, List.of(text), tmp.resolve("lm"),
        new TokenizeJob.Options(0, 0, false, 0, 0, 2, Compression.GZIP),
        TokenizeJob.Progress.NONE);
    assertTrue(res.shards().get(0).getFileName().toString().endsWith("-of-00002.gz"));
    List<String> got = new ArrayList<>();
    for (Example ex : readAll(res.shards())) {
      ExampleCodec.TokenExample t = ExampleCodec.parseTokens(ex.toByteArray(), "lm", 0);
      assertEquals(0, t.inputs().length);
      assertEquals(spm.eosId(), t.targets()[t.targets().length - 1]);
      got.add(Arrays.toString(Arrays.copyOf(t.targets(), t.targets().length - 1)));
    }
    got.sort(null);
    assertEquals(expectedChunks(text, Integer.MAX_VALUE), got);
  }

  @Test
  void refusesExistingOutputAndLeavesNothingOnFailure() throws IOException {
    Path text = writeText();
    Path existing = Files.createDirectory(tmp.resolve("exists"));
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
        () -> TokenizeJob.tokenize(spmFile, List.of(text), existing,
            TokenizeJob.Options.of(32, true, 1, 1), TokenizeJob.Progress.NONE));
    assertTrue(e.getMessage().contains(existing.toString()) && e.getMessage().contains("already exists"),
        e.getMessage());

    // whole-document span corruption with too few sentinels fails on the long lines
    Path out = tmp.resolve("fails");
    IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
        () -> TokenizeJob.tokenize(spmFile, List.of(text), out,
            new TokenizeJob.Options(0, 0, true, 1, 0, 1, Compression.NONE),
            TokenizeJob.Progress.NONE));
    assertTrue(f.getMessage().contains("corpus.txt:"), f.getMessage());
    assertFalse(Files.exists(out));
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(s.noneMatch(AtomicFolder::isStage), "the stage was removed");
    }
    assertNotEquals(0, Files.size(text));
  }
}
