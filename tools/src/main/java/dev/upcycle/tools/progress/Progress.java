package dev.upcycle.tools.progress;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Reports progress of a long piece of work measured in units (bytes, MB, tensors, steps).
 *
 * <pre>{@code
 * try (Progress p = Progress.start("convert", totalMb, "MB")) {
 *   p.advance(n);
 *   p.message("wrote encoder/layers_0");
 * }
 * }</pre>
 *
 * <p>In {@link Mode#BAR} mode a single line is redrawn with {@code \r} (label, bar, percent,
 * count/total, rate, ETA), at most every {@link #BAR_REDRAW_INTERVAL}. In {@link Mode#LOG} mode a
 * plain line is written at most every log interval (default {@link #DEFAULT_LOG_INTERVAL}) and one
 * final line when the reporter is closed. A total of 0 means "unknown": no percent and no ETA.
 *
 * <p>Methods are synchronized, so workers on several threads may share one reporter.
 */
public final class Progress implements AutoCloseable {

  /** How progress is shown. */
  public enum Mode {
    /** A single line redrawn in place; for interactive terminals. */
    BAR,
    /** Throttled plain log lines; for files, pipes and CI logs. */
    LOG;

    /**
     * {@link #BAR} when stderr is an interactive terminal and {@code TERM} is not {@code dumb},
     * else {@link #LOG}. Java cannot test stderr itself: the system property
     * {@value #STDERR_TTY_PROPERTY} ({@code true}/{@code false}, set by {@code bin/upcycle} from
     * {@code [ -t 2 ]}) decides when present; otherwise {@code System.console()} (stdin and stdout
     * both terminals) is the test.
     */
    public static Mode detect() {
      if ("dumb".equals(System.getenv("TERM"))) {
        return LOG;
      }
      String tty = System.getProperty(STDERR_TTY_PROPERTY);
      boolean interactive = tty != null ? Boolean.parseBoolean(tty) : consoleIsTerminal();
      return interactive ? BAR : LOG;
    }
  }

  /** System property saying whether stderr is a terminal; see {@link Mode#detect()}. */
  public static final String STDERR_TTY_PROPERTY = "upcycle.stderr.tty";

  public static final Duration DEFAULT_LOG_INTERVAL = Duration.ofSeconds(10);
  public static final Duration BAR_REDRAW_INTERVAL = Duration.ofMillis(100);
  static final int BAR_WIDTH = 24;

  private final String label;
  private final long total;
  private final String unit;
  private final PrintStream out;
  private final LongSupplier nanoClock;
  private final Mode mode;
  private final long logIntervalNanos;
  private final long startNanos;

  private long done;
  private long lastDrawNanos;
  private boolean drawnOnce;
  private int lastBarLength;
  private boolean closed;

  private Progress(Builder b) {
    this.label = b.label;
    this.total = b.total;
    this.unit = b.unit;
    this.out = b.out;
    this.nanoClock = b.nanoClock;
    this.mode = b.mode != null ? b.mode : Mode.detect();
    this.logIntervalNanos = b.logInterval.toNanos();
    this.startNanos = nanoClock.getAsLong();
    this.lastDrawNanos = startNanos;
  }

  /**
   * Starts a reporter on {@code System.err} with the mode detected from the environment.
   *
   * @param label short name of the work, e.g. {@code "convert"}
   * @param total total units of work; 0 if unknown
   * @param unit unit name shown after counts, e.g. {@code "MB"}
   */
  public static Progress start(String label, long total, String unit) {
    return builder(label).total(total).unit(unit).start();
  }

  /** A builder for a reporter with an explicit stream, clock, mode or log interval. */
  public static Builder builder(String label) {
    return new Builder(label);
  }

  /** Records {@code units} more units of finished work ({@code >= 0}). */
  public synchronized void advance(long units) {
    checkArgument(units >= 0, "progress '%s': advance(%s) must not be negative", label, units);
    checkState(!closed, "progress '%s' is closed", label);
    done += units;
    long now = nanoClock.getAsLong();
    if (mode == Mode.BAR) {
      if (!drawnOnce || now - lastDrawNanos >= BAR_REDRAW_INTERVAL.toNanos()) {
        drawBar(now);
      }
    } else if (now - lastDrawNanos >= logIntervalNanos) {
      out.println(label + ": " + status(now));
      out.flush();
      lastDrawNanos = now;
    }
  }

  /** Prints a message on its own line, without disturbing the bar. */
  public synchronized void message(String text) {
    checkNotNull(text, "progress '%s': message text", label);
    if (mode == Mode.BAR) {
      clearBar();
      out.println(text);
      if (drawnOnce) {
        drawBar(nanoClock.getAsLong());
      }
    } else {
      out.println(label + ": " + text);
    }
    out.flush();
  }

  /**
   * Prints a log line as it is (no label): in {@link Mode#BAR} the bar is cleared first and redrawn
   * below the line, so the two never share a screen line; see {@link ProgressConsole}.
   */
  public synchronized void println(String line) {
    checkNotNull(line, "progress '%s': line", label);
    if (mode == Mode.BAR && !closed) {
      clearBar();
      out.println(line);
      if (drawnOnce) {
        drawBar(nanoClock.getAsLong());
      }
    } else {
      out.println(line);
    }
    out.flush();
  }

  /** True once {@link #close} has run. */
  public synchronized boolean isClosed() {
    return closed;
  }

  /** Units of work finished so far. */
  public synchronized long done() {
    return done;
  }

  /** Writes the final line (bar completed and newline, or a summary log line). Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long now = nanoClock.getAsLong();
    if (mode == Mode.BAR) {
      drawBar(now);
      out.println();
    } else {
      out.println(label + ": " + summary(now));
    }
    out.flush();
  }

  // ---- formatting -------------------------------------------------------------------------------

  private void drawBar(long now) {
    String line = barLine(now);
    StringBuilder sb = new StringBuilder(line.length() + 8).append('\r').append(line);
    for (int i = line.length(); i < lastBarLength; i++) {
      sb.append(' ');
    }
    out.print(sb);
    out.flush();
    lastBarLength = line.length();
    lastDrawNanos = now;
    drawnOnce = true;
  }

  private void clearBar() {
    if (lastBarLength > 0) {
      out.print('\r' + " ".repeat(lastBarLength) + '\r');
      lastBarLength = 0;
    }
  }

  /** {@code label [#####.....]  42.0%  420/1000 MB  12.3 MB/s  ETA 0:47}. */
  private String barLine(long now) {
    StringBuilder sb = new StringBuilder(label).append(' ');
    if (total > 0) {
      int filled = (int) Math.round(fraction() * BAR_WIDTH);
      sb.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ");
      sb.append(String.format(Locale.ROOT, "%5.1f%%  %d/%d %s", 100 * fraction(), done, total, unit));
    } else {
      sb.append(done).append(' ').append(unit);
    }
    double rate = rate(now);
    sb.append("  ").append(formatRate(rate));
    if (total > 0) {
      sb.append("  ETA ").append(eta(rate));
    }
    return sb.toString();
  }

  /** {@code 42.0% (420/1000 MB), 12.3 MB/s, ETA 0:47}. */
  private String status(long now) {
    double rate = rate(now);
    if (total > 0) {
      return String.format(Locale.ROOT, "%.1f%% (%d/%d %s), %s, ETA %s",
          100 * fraction(), done, total, unit, formatRate(rate), eta(rate));
    }
    return String.format(Locale.ROOT, "%d %s, %s", done, unit, formatRate(rate));
  }

  private String summary(long now) {
    String elapsed = formatDuration((now - startNanos) / 1e9);
    String rate = formatRate(rate(now));
    if (total > 0 && done < total) {
      return String.format(Locale.ROOT, "stopped at %.1f%% (%d/%d %s) after %s, %s",
          100 * fraction(), done, total, unit, elapsed, rate);
    }
    String count = total > 0 ? done + "/" + total : Long.toString(done);
    return String.format(Locale.ROOT, "done, %s %s in %s, %s", count, unit, elapsed, rate);
  }

  private double fraction() {
    return total > 0 ? Math.min(1.0, (double) done / total) : 0.0;
  }

  /** Units per second since start; NaN before any time has passed. */
  private double rate(long now) {
    double seconds = (now - startNanos) / 1e9;
    return seconds > 0 ? done / seconds : Double.NaN;
  }

  private String formatRate(double rate) {
    return Double.isNaN(rate) ? "- " + unit + "/s" : String.format(Locale.ROOT, "%.1f %s/s", rate, unit);
  }

  private String eta(double rate) {
    long remaining = Math.max(0, total - done);
    if (remaining == 0) {
      return "0:00";
    }
    return Double.isNaN(rate) || rate <= 0 ? "?" : formatDuration(remaining / rate);
  }

  /** {@code m:ss}, or {@code h:mm:ss} from one hour on. */
  static String formatDuration(double seconds) {
    long s = Math.round(seconds);
    long h = s / 3600;
    long m = (s % 3600) / 60;
    long sec = s % 60;
    return h > 0
        ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
        : String.format(Locale.ROOT, "%d:%02d", m, sec);
  }

  private static boolean consoleIsTerminal() {
    Object console = System.console();
    if (console == null) {
      return false;
    }
    // From Java 22 System.console() is non-null even when redirected; isTerminal() tells.
    try {
      Method isTerminal = console.getClass().getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(console);
    } catch (ReflectiveOperationException e) {
      return true; // Java < 22: a non-null console means an interactive terminal
    }
  }

  /** Builder for {@link Progress}; defaults: total 0 (unknown), unit "", stderr, system clock. */
  public static final class Builder {
    private final String label;
    private long total;
    private String unit = "";
    private PrintStream out = System.err;
    private LongSupplier nanoClock = System::nanoTime;
    private Mode mode;
    private Duration logInterval = DEFAULT_LOG_INTERVAL;

    private Builder(String label) {
      checkArgument(label != null && !label.isBlank(), "progress label must not be blank, got '%s'", label);
      this.label = label;
    }

    /** Total units; 0 means unknown. */
    public Builder total(long total) {
      checkArgument(total >= 0, "progress '%s': total %s must be >= 0", label, total);
      this.total = total;
      return this;
    }

    public Builder unit(String unit) {
      this.unit = checkNotNull(unit, "progress '%s': unit", label);
      return this;
    }

    public Builder out(PrintStream out) {
      this.out = checkNotNull(out, "progress '%s': out", label);
      return this;
    }

    /** A monotonic clock in nanoseconds (like {@link System#nanoTime()}); for tests. */
    public Builder clock(LongSupplier nanoClock) {
      this.nanoClock = checkNotNull(nanoClock, "progress '%s': clock", label);
      return this;
    }

    /** Forces a mode instead of detecting it. */
    public Builder mode(Mode mode) {
      this.mode = checkNotNull(mode, "progress '%s': mode", label);
      return this;
    }

    /** Minimum time between plain log lines in {@link Mode#LOG}. */
    public Builder logInterval(Duration interval) {
      checkArgument(interval != null && !interval.isNegative(),
          "progress '%s': log interval must be >= 0, got %s", label, interval);
      this.logInterval = interval;
      return this;
    }

    public Progress start() {
      return new Progress(this);
    }
  }
}
