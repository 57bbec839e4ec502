package dev.upcycle.tools.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.tools.Main;
import dev.upcycle.train.experiment.ResultsCsv;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both experiment drivers end to end with {@code --quick} (a few steps, one seed, two budgets), the
 * way a user runs them: exit 0, the CSV's columns, points from every branch at every budget, the
 * plots written; a second run reads every finished branch back; a changed plan is refused rather
 * than mixed with the finished branches. Vision runs on a small IDX set written here in
 * Fashion-MNIST's layout (the real one is a Debian package CI need not have); language on real
 * King James verses from {@code testdata/spm_kjv} with a vocabulary Debian's spm_train made.
 */
class ExperimentSmokeTest {

  @TempDir Path tmp;

  private String out;
  private String err;

  private int run(String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int code = Main.execute(args, new PrintWriter(o, true), new PrintWriter(e, true), Map.of());
    out = o.toString();
    err = e.toString();
    return code;
  }

  @Test
  void visionQuickRunWritesEveryBranchAndIsResumable() throws IOException {
    Path idx = tmp.resolve("idx");
    writeFashionMnistLike(idx, 512, 192);
    Path results = tmp.resolve("vision");
    String[] args = {"experiment", "vision", "--quick", "--dense-steps", "10", "--fashion-mnist", idx.toString(), "--out",
        results.toString()};
    assertEquals(0, run(args), err + out);
    Map<String, List<String[]>> rows = readCsv(results.resolve("results.csv"));
    assertEquals(Set.of("dense", "continuation", "upcycled-last_2", "upcycled-every_other", "scratch-last_2"),
        rows.keySet());
    for (Map.Entry<String, List<String[]>> b : rows.entrySet()) {
      assertEquals(2, b.getValue().size(), b.getKey() + ": one point per budget (or per dense curve point)");
    }
    // the budgets of the quick run, and the dense curve at 0.5 S and S
    assertEquals(Set.of("0.5000", "1.0000"), column(rows.get("continuation"), "budget"));
    assertEquals(Set.of("-0.5000", "0.0000"), column(rows.get("dense"), "budget"));
    // an MoE step costs more FLOPs, so the upcycled branch takes fewer steps for the same extra compute
    long denseSteps = Long.parseLong(rows.get("continuation").get(1)[ResultsCsv.COLUMNS.indexOf("branch_steps")]);
    long moeSteps = Long.parseLong(rows.get("upcycled-last_2").get(1)[ResultsCsv.COLUMNS.indexOf("branch_steps")]);
    assertTrue(moeSteps < denseSteps, moeSteps + " vs " + denseSteps);
    for (String png : List.of("accuracy.png", "cross_entropy.png", "expert_load-upcycled-last_2.png",
        "expert_load-upcycled-every_other.png")) {
      assertPng(results.resolve("plots").resolve(png));
    }
    String summary = Files.readString(results.resolve("summary.md"));
    assertTrue(summary.contains("| upcycled-last_2 |"), summary);

    assertEquals(0, run(args), err + out);
    assertTrue(out.contains("0 branches run, 5 read back"), out);

    String[] changed = args.clone();
    changed[4] = "12";
    assertEquals(1, run(changed), err + out);
    assertTrue(err.contains("holds a finished branch dense with other settings"), err);
  }

  @Test
  void languageQuickRunOnOwnCorpusAndVocabulary() throws IOException {
    Path text = tmp.resolve("verses.txt");
    List<String> verses = Files.readAllLines(Fixtures.fixture("spm_kjv/sample.tsv"), StandardCharsets.UTF_8).stream()
        .map(l -> l.substring(l.indexOf('\t') + 1)).toList();
    Files.write(text, verses, StandardCharsets.UTF_8);
    Path results = tmp.resolve("language");
    assertEquals(0, run("experiment", "language", "--quick", "--dense-steps", "8", "--corpus", text.toString(), "--spm",
        Fixtures.fixture("spm_kjv/unigram_1000.model").toString(), "--out", results.toString()), err + out);
    Map<String, List<String[]>> rows = readCsv(results.resolve("results.csv"));
    assertEquals(Set.of("dense", "continuation", "upcycled-every_other", "scratch-every_other"), rows.keySet());
    for (List<String[]> points : rows.values()) {
      assertEquals(2, points.size());
      for (String[] p : points) {
        double accuracy = Double.parseDouble(p[ResultsCsv.COLUMNS.indexOf("accuracy")]);
        double ce = Double.parseDouble(p[ResultsCsv.COLUMNS.indexOf("cross_entropy")]);
        assertTrue(accuracy > 0 && accuracy < 1 && ce > 0 && Double.isFinite(ce), Arrays.toString(p));
      }
    }
    assertPng(results.resolve("plots/accuracy.png"));
    assertPng(results.resolve("plots/expert_load-upcycled-every_other.png"));
    assertTrue(Files.readString(results.resolve("summary.md")).contains("token accuracy"));
  }

  @Test
  void badArgumentsAreUsageErrors() {
    assertEquals(2, run("experiment", "audio"));
    assertTrue(err.contains("expected one of vision, language"), err);
    assertEquals(2, run("experiment", "vision", "--ablation", "nosuch"));
    assertTrue(err.contains("router") && err.contains("noise"), err);
  }

  private static Map<String, List<String[]>> readCsv(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    assertEquals(String.join(",", ResultsCsv.COLUMNS), lines.get(0));
    return lines.stream().skip(1).map(l -> l.split(",", -1))
        .peek(r -> assertEquals(ResultsCsv.COLUMNS.size(), r.length, Arrays.toString(r)))
        .collect(Collectors.groupingBy(r -> r[0], TreeMap::new, Collectors.toList()));
  }

  private static Set<String> column(List<String[]> rows, String name) {
    int i = ResultsCsv.COLUMNS.indexOf(name);
    return rows.stream().map(r -> r[i]).collect(Collectors.toCollection(TreeSet::new));
  }

  private static void assertPng(Path file) throws IOException {
    assertTrue(Files.isRegularFile(file), file + " missing");
    byte[] head = Arrays.copyOf(Files.readAllBytes(file), 8);
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head, file.toString());
  }

  /** Random 28×28 images whose label is the image's brightest quarter band, as the four IDX files. */
  static void writeFashionMnistLike(Path dir, int train, int test) throws IOException {
    Files.createDirectories(dir);
    Random r = new Random(7);
    writeSet(dir, "train", train, r);
    writeSet(dir, "t10k", test, r);
  }

  private static void writeSet(Path dir, String prefix, int n, Random r) throws IOException {
    byte[][] images = new byte[n][28 * 28];
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      int label = r.nextInt(10);
      labels[i] = (byte) label;
      for (int p = 0; p < 28 * 28; p++) {
        int row = p / 28;
        images[i][p] = (byte) (row * 10 / 28 == label ? 200 + r.nextInt(56) : r.nextInt(60));
      }
    }
    try (DataOutputStream o = gz(dir.resolve(prefix + "-images-idx3-ubyte.gz"))) {
      o.writeInt(0x00000803);
      o.writeInt(n);
      o.writeInt(28);
      o.writeInt(28);
      for (byte[] img : images) {
        o.write(img);
      }
    }
    try (DataOutputStream o = gz(dir.resolve(prefix + "-labels-idx1-ubyte.gz"))) {
      o.writeInt(0x00000801);
      o.writeInt(n);
      o.write(labels);
    }
  }

  private static DataOutputStream gz(Path file) throws IOException {
    OutputStream raw = Files.newOutputStream(file);
    return new DataOutputStream(new GZIPOutputStream(raw));
  }
}
