package dev.upcycle.tools.progress;

import static com.google.common.base.Preconditions.checkNotNull;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The one place where a command's progress bar and its log lines meet on stderr: the bar is
 * started here ({@link #start}) and log lines are written to {@link #lines()}; while a bar is
 * shown each complete log line clears the bar, is printed, and the bar is redrawn below it, so a
 * terminal never shows {@code … ETA 0:20step 40/150 loss …}. Without a bar (or in
 * {@link Progress.Mode#LOG}) lines go straight through.
 */
public final class ProgressConsole {

  private final PrintStream err;
  private final Progress.Mode mode;
  private final PrintStream lines;
  private Progress bar;

  public ProgressConsole(PrintStream err, Progress.Mode mode) {
    this.err = checkNotNull(err, "err");
    this.mode = checkNotNull(mode, "mode");
    this.lines = new PrintStream(new LineBuffer(), true, StandardCharsets.UTF_8);
  }

  /** {@code System.err} with the mode detected from the environment ({@link Progress.Mode#detect()}). */
  public static ProgressConsole stderr() {
    return new ProgressConsole(System.err, Progress.Mode.detect());
  }

  public Progress.Mode mode() {
    return mode;
  }

  /** Starts the bar (or log reporter) that the lines of {@link #lines()} go around. */
  public synchronized Progress start(String label, long total, String unit) {
    bar = Progress.builder(label).total(total).unit(unit).out(err).mode(mode).start();
    return bar;
  }

  /** The stream for log lines (UTF-8, flushed per line); the same stream on every call. */
  public PrintStream lines() {
    return lines;
  }

  private synchronized void println(String line) {
    if (bar != null && !bar.isClosed()) {
      bar.println(line);
    } else {
      err.println(line);
      err.flush();
    }
  }

  /** Collects bytes up to each newline, then prints the line through {@link #println}. */
  private final class LineBuffer extends OutputStream {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
      if (b == '\n') {
        String line = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        println(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
      } else {
        pending.write(b);
      }
    }
  }
}
