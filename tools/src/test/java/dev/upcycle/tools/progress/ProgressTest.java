package dev.upcycle.tools.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L); // arbitrary origin
  private final long origin = nanos.get();
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private void at(double seconds) {
    nanos.set(origin + Math.round(seconds * 1e9));
  }

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private Progress.Builder builder(Progress.Mode mode) {
    return Progress.builder("convert").total(100).unit("MB").out(out).clock(nanos::get).mode(mode);
  }

  @Test
  void logModeWritesAtMostOneLinePerIntervalAndASummary() {
    try (Progress p = builder(Progress.Mode.LOG).logInterval(Duration.ofSeconds(10)).start()) {
      at(1);
      p.advance(10);
      assertEquals("", output(), "nothing before the first interval has passed");
      at(10);
      p.advance(20);
      // 30 MB in 10 s = 3.0 MB/s; 70 MB left / 3 MB/s = 23.3 s
      assertEquals("convert: 30.0% (30/100 MB), 3.0 MB/s, ETA 0:23\n", output());
      at(15);
      p.advance(10);
      assertEquals(1, output().split("\n").length, "only 5 s since the last line");
      at(20);
      p.advance(60);
      assertEquals(100, p.done());
    }
    String[] lines = output().split("\n");
    assertEquals(3, lines.length, output());
    assertEquals("convert: 100.0% (100/100 MB), 5.0 MB/s, ETA 0:00", lines[1]);
    assertEquals("convert: done, 100/100 MB in 0:20, 5.0 MB/s", lines[2]);
    assertFalse(output().contains("\r"), "no carriage returns in log mode");
  }

  @Test
  void logModeMessagesAppearAtOnceAndUnfinishedWorkSaysStopped() {
    Progress p = builder(Progress.Mode.LOG).start();
    p.message("reading encoder/layers_0");
    at(4);
    p.advance(40);
    p.close();
    p.close(); // idempotent
    assertEquals("convert: reading encoder/layers_0\n"
        + "convert: stopped at 40.0% (40/100 MB) after 0:04, 10.0 MB/s\n", output());
  }

  @Test
  void unknownTotalShowsCountAndRateOnly() {
    try (Progress p = Progress.builder("scan").unit("tensors").out(out).clock(nanos::get)
        .mode(Progress.Mode.LOG).start()) {
      at(2);
      p.advance(42);
    }
    assertEquals("scan: done, 42 tensors in 0:02, 21.0 tensors/s\n", output());
  }

  @Test
  void barModeRedrawsOneLineWithCarriageReturnsAndThrottles() {
    Progress p = builder(Progress.Mode.BAR).start();
    at(1);
    p.advance(25);
    // 25 % of a 24-wide bar = 6 cells; 25 MB/s; 75 MB left at 25 MB/s = 3 s
    String first = "\rconvert [######..................]  25.0%  25/100 MB  25.0 MB/s  ETA 0:03";
    assertEquals(first, output());
    at(1.05);
    p.advance(1);
    assertEquals(first, output(), "redraw within 100 ms is skipped");
    at(2);
    p.advance(25);
    assertTrue(output().endsWith(
        "\rconvert [############............]  51.0%  51/100 MB  25.5 MB/s  ETA 0:02"), output());
    assertFalse(output().contains("\n"), "the bar never starts a new line by itself");
    at(4);
    p.advance(49);
    p.close();
    assertTrue(output().endsWith(
        "\rconvert [########################] 100.0%  100/100 MB  25.0 MB/s  ETA 0:00\n"), output());
    assertEquals(1, output().chars().filter(c -> c == '\n').count());
  }

  @Test
  void barModeMessageClearsTheBarPrintsAndRedraws() {
    Progress p = builder(Progress.Mode.BAR).start();
    at(1);
    p.advance(50);
    int barLength = output().length() - 1; // without the leading \r
    p.message("hello");
    String after = output().substring(barLength + 1);
    assertEquals("\r" + " ".repeat(barLength) + "\r" + "hello\n"
        + "\rconvert [############............]  50.0%  50/100 MB  50.0 MB/s  ETA 0:01", after);
  }

  @Test
  void modeFollowsTheStderrTtyPropertyWhenSet() {
    String before = System.getProperty(Progress.STDERR_TTY_PROPERTY);
    try {
      boolean dumb = "dumb".equals(System.getenv("TERM"));
      System.setProperty(Progress.STDERR_TTY_PROPERTY, "true");
      assertEquals(dumb ? Progress.Mode.LOG : Progress.Mode.BAR, Progress.Mode.detect());
      System.setProperty(Progress.STDERR_TTY_PROPERTY, "false");
      assertEquals(Progress.Mode.LOG, Progress.Mode.detect());
    } finally {
      if (before == null) {
        System.clearProperty(Progress.STDERR_TTY_PROPERTY);
      } else {
        System.setProperty(Progress.STDERR_TTY_PROPERTY, before);
      }
    }
  }

  @Test
  void durationsFormatAsMinutesOrHours() {
    assertEquals("0:00", Progress.formatDuration(0.2));
    assertEquals("1:00", Progress.formatDuration(59.6));
    assertEquals("59:59", Progress.formatDuration(3599));
    assertEquals("1:02:05", Progress.formatDuration(3725));
  }

  @Test
  void rejectsBadArgumentsAndUseAfterClose() {
    assertThrows(IllegalArgumentException.class, () -> Progress.builder(" "));
    assertThrows(IllegalArgumentException.class, () -> Progress.builder("x").total(-1));
    Progress p = builder(Progress.Mode.LOG).start();
    assertThrows(IllegalArgumentException.class, () -> p.advance(-1));
    p.close();
    assertThrows(IllegalStateException.class, () -> p.advance(1));
  }
}
