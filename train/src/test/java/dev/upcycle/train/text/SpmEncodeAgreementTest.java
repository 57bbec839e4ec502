package dev.upcycle.train.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.upcycle.model.testing.Fixtures;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our encoder against the real other side, Debian's {@code spm_encode} (sentencepiece 0.1.97), on
 * a real English text, the King James Bible of Debian's {@code bible-kjv}. The models were trained
 * with Debian's {@code spm_train} on that corpus ({@code testdata/spm_kjv/make.sh}, flags in
 * {@code testdata/MANIFEST.md}): UNIGRAM 4000 ({@code nmt_nfkc}), UNIGRAM 1000, UNIGRAM 1000 with
 * user-defined symbols, BPE 1000.
 *
 * <p>(a) Always: the committed {@code spm_encode --output_format=id} output for a sample of lines
 * (every line where the segmenter before the double-precision Viterbi fix disagreed, plus every
 * 100th verse and every 50th repeated-word line) equals our ids, line by line.
 * (b) When {@code spm_encode} and {@code bible} are on the PATH (CI installs them): the whole
 * corpus, 31,102 verses, encoded by {@code spm_encode} now, equals our ids on every line.
 */
class SpmEncodeAgreementTest {

  private static final String FOLDER = "spm_kjv/";
  /** Every verse of the KJV, as {@code bible} names the range. */
  private static final String KJV_RANGE = "gen1:1-rev22:21";
  private static final int KJV_VERSES = 31_102;
  /** Mismatching lines spelled out in a failure message; the count covers the rest. */
  private static final int SHOWN = 20;

  private static List<String> corpus;

  /** One line of input with a name for messages (a verse reference or a sample row). */
  private record Line(String name, String text) {}

  @ParameterizedTest
  @ValueSource(strings = {"unigram_4000", "unigram_1000", "unigram_1000_user", "bpe_1000"})
  void committedSpmEncodeIdsEqualOurs(String name) throws IOException {
    SentencePieceModel model = SentencePieceModel.load(Fixtures.fixture(FOLDER + name + ".model"));
    Path samplePath = Fixtures.fixture(FOLDER + "sample.tsv");
    List<Line> sample = new ArrayList<>();
    List<String> rows = Files.readAllLines(samplePath, StandardCharsets.UTF_8);
    for (int i = 0; i < rows.size(); i++) {
      String[] cols = rows.get(i).split("\t", 2);
      assertEquals(2, cols.length,
          samplePath + " line " + (i + 1) + ": expected REF<TAB>TEXT, got '" + rows.get(i) + "'");
      sample.add(new Line("sample.tsv line " + (i + 1) + " (" + cols[0] + ")", cols[1]));
    }
    Path idsPath = Fixtures.fixture(FOLDER + name + ".ids");
    List<String> expected = Files.readAllLines(idsPath, StandardCharsets.UTF_8);
    assertTrue(sample.size() > 400, samplePath + " has only " + sample.size() + " lines");
    assertAllEqual(model, name, sample, expected, idsPath.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"unigram_4000", "unigram_1000", "unigram_1000_user", "bpe_1000"})
  void liveSpmEncodeEqualsOursOnTheWholeCorpus(String name, @TempDir Path tmp)
      throws IOException, InterruptedException {
    assumeTrue(onPath("spm_encode") && onPath("bible"),
        "spm_encode or bible is not on the PATH (apt-get install sentencepiece bible-kjv)");
    Path modelPath = Fixtures.fixture(FOLDER + name + ".model");
    SentencePieceModel model = SentencePieceModel.load(modelPath);
    List<String> verses = corpus(tmp);
    Path text = tmp.resolve("kjv.txt");
    Files.write(text, verses, StandardCharsets.UTF_8);
    List<String> expected = run(tmp, text, "spm_encode", "--model=" + modelPath,
        "--output_format=id");
    List<Line> lines = new ArrayList<>();
    for (int i = 0; i < verses.size(); i++) {
      lines.add(new Line("verse " + (i + 1) + " of " + KJV_RANGE, verses.get(i)));
    }
    assertAllEqual(model, name, lines, expected, "spm_encode --model=" + modelPath);
    System.out.printf("SpmEncodeAgreementTest %s: %d lines of the KJV compared with spm_encode,"
        + " all equal%n", name, lines.size());
  }

  private static void assertAllEqual(SentencePieceModel model, String name, List<Line> lines,
      List<String> expected, String expectedSource) {
    assertEquals(lines.size(), expected.size(),
        expectedSource + ": number of id lines vs number of text lines");
    List<String> mismatches = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      int[] theirs = parseIds(expected.get(i), expectedSource, i + 1);
      int[] ours = model.encode(lines.get(i).text());
      if (!Arrays.equals(theirs, ours)) {
        mismatches.add(lines.get(i).name() + " '" + lines.get(i).text() + "': spm_encode "
            + Arrays.toString(theirs) + " vs ours " + Arrays.toString(ours));
      }
    }
    if (!mismatches.isEmpty()) {
      fail(name + ": " + mismatches.size() + " of " + lines.size()
          + " lines tokenize differently from spm_encode:\n"
          + mismatches.stream().limit(SHOWN).collect(Collectors.joining("\n")));
    }
  }

  private static int[] parseIds(String line, String source, int lineNumber) {
    if (line.isEmpty()) {
      return new int[0];
    }
    try {
      return Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
    } catch (NumberFormatException e) {
      throw new AssertionError(source + " line " + lineNumber
          + ": expected space-separated token ids, got '" + line + "'", e);
    }
  }

  /** The KJV verses with their reference ("Ge1:1 ") stripped up to the first space. */
  private static synchronized List<String> corpus(Path tmp)
      throws IOException, InterruptedException {
    if (corpus == null) {
      List<String> verses = run(tmp, null, "bible", "-f", KJV_RANGE).stream()
          .map(v -> v.substring(v.indexOf(' ') + 1))
          .collect(Collectors.toList());
      assertEquals(KJV_VERSES, verses.size(), "verses printed by bible -f " + KJV_RANGE);
      corpus = List.copyOf(verses);
    }
    return corpus;
  }

  /** Runs a command (stdin from {@code input} when given) and returns its stdout lines. */
  private static List<String> run(Path tmp, Path input, String... command)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile(tmp, "stdout", ".txt");
    Path err = Files.createTempFile(tmp, "stderr", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectOutput(out.toFile())
        .redirectError(err.toFile());
    if (input != null) {
      pb.redirectInput(input.toFile());
    }
    Process p = pb.start();
    String shown = String.join(" ", command);
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      fail(shown + " did not finish within 5 minutes");
    }
    assertEquals(0, p.exitValue(), shown + " failed: " + Files.readString(err));
    return Files.readAllLines(out, StandardCharsets.UTF_8);
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
