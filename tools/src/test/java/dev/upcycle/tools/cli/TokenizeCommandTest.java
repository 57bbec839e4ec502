package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.tools.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code data tokenize}: empty input refused unless {@code --allow-empty}; no progress line before the work starts. */
class TokenizeCommandTest {

  @TempDir Path tmp;

  private String err;
  private String stderr;

  /** Runs the program with System.err (where progress goes) captured too. */
  private int run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter e = new StringWriter();
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      return Main.execute(args, new PrintWriter(out, true), new PrintWriter(e, true), Map.of());
    } finally {
      System.setErr(saved);
      err = e.toString();
      stderr = captured.toString(StandardCharsets.UTF_8);
    }
  }

  private static String spm() {
    return Fixtures.fixture("spm_seqio_test/sentencepiece.model").toString();
  }

  @Test
  void emptyInputIsRefusedAndWritesNothing() throws Exception {
    for (String content : new String[] {"", "\n\n  \n"}) {
      Path text = Files.writeString(tmp.resolve("empty.txt"), content);
      Path out = tmp.resolve("out");
      assertEquals(1, run("data", "tokenize", "--spm", spm(), "--in", text.toString(), "--out", out.toString()),
          err + stderr);
      assertTrue(err.contains("no documents") && err.contains(text.toString()) && err.contains("--allow-empty"), err);
      assertFalse(Files.exists(out), "nothing written");
      try (var s = Files.list(tmp)) {
        assertEquals(1, s.count(), "no stage left");
      }
    }
  }

  @Test
  void emptyInputIsWrittenWithAllowEmpty() throws Exception {
    Path text = Files.writeString(tmp.resolve("empty.txt"), "");
    Path out = tmp.resolve("out");
    assertEquals(0, run("data", "tokenize", "--spm", spm(), "--in", text.toString(), "--out", out.toString(),
        "--allow-empty"), err);
    assertTrue(Files.isDirectory(out));
  }

  @Test
  void anErrorBeforeTheWorkStartsPrintsNoProgressLine() throws Exception {
    Path text = Files.writeString(tmp.resolve("text.txt"), "one document\nanother one\n");
    Path out = Files.createDirectory(tmp.resolve("exists"));
    assertEquals(1, run("data", "tokenize", "--spm", spm(), "--in", text.toString(), "--out", out.toString()));
    assertFalse(stderr.contains("tokenize:") || stderr.contains("stopped at"), stderr);
    Path garbage = Files.writeString(tmp.resolve("garbage.model"), "not a model");
    assertEquals(1, run("data", "tokenize", "--spm", garbage.toString(), "--in", text.toString(), "--out",
        tmp.resolve("out").toString()));
    assertFalse(stderr.contains("tokenize:") || stderr.contains("stopped at"), stderr);
  }
}
