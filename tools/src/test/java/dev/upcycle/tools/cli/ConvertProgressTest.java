package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.tools.Main;
import dev.upcycle.tools.progress.Progress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convert}'s progress counts the bytes written (of the plan's total), not tensors. */
class ConvertProgressTest {

  @TempDir Path tmp;

  @Test
  void progressCountsMegabytesOfThePlan() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    String savedTty = System.getProperty(Progress.STDERR_TTY_PROPERTY);
    System.setProperty(Progress.STDERR_TTY_PROPERTY, "false"); // log mode: one summary line
    System.setErr(new PrintStream(progress, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.execute(new String[] {"convert", "--from", Fixtures.fixture("t2t_transformer_test_ckpt").toString(),
          "--to", tmp.resolve("moe").toString(), "--experts", "4"}, new PrintWriter(out, true),
          new PrintWriter(err, true), Map.of());
    } finally {
      System.setErr(saved);
      if (savedTty == null) {
        System.clearProperty(Progress.STDERR_TTY_PROPERTY);
      } else {
        System.setProperty(Progress.STDERR_TTY_PROPERTY, savedTty);
      }
    }
    assertEquals(0, code, err.toString());
    String log = progress.toString(StandardCharsets.UTF_8);
    Matcher done = Pattern.compile("convert: done, (\\d+)/(\\d+) MB in").matcher(log);
    assertTrue(done.find(), log);
    assertEquals(done.group(1), done.group(2), log);
    assertTrue(Long.parseLong(done.group(2)) >= 1, log);
  }
}
