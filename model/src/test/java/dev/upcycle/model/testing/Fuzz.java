package dev.upcycle.model.testing;

import static com.google.common.base.Preconditions.checkArgument;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.opentest4j.AssertionFailedError;

/**
 * Seeded fuzzing for the readers' tests (docs/testing.md): mutants of a good input (bit flips,
 * truncations, insertions, deletions, duplicated ranges, and length-field corruption: 1, 2, 4 or 8
 * bytes overwritten with boundary values), each fed to the reader under a timeout (the case runs
 * on a worker thread; one that runs too long is abandoned and fails the test). Every outcome
 * must be a value or one of the reader's clear errors; anything else (another exception, an
 * {@link Error} such as {@link StackOverflowError}, a hang) fails the test, naming the case so that
 * it can be replayed alone ({@link #mutant}).
 *
 * <p>The number of cases is the test's default unless {@value #CASES_PROPERTY} is set
 * ({@code mvn test -Dupcycle.fuzz.cases=100000 -Dtest='*FuzzTest'}); the seed, fixed by default
 * so the suite is repeatable, can be changed with {@value #SEED_PROPERTY}.
 */
public final class Fuzz {

  /** System property: cases per reader (overrides each test's default). */
  public static final String CASES_PROPERTY = "upcycle.fuzz.cases";
  /** System property: the base seed. */
  public static final String SEED_PROPERTY = "upcycle.fuzz.seed";
  /** The base seed when {@value #SEED_PROPERTY} is not set. */
  public static final long DEFAULT_SEED = 14;

  private static final long[] BOUNDARIES = {0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffffL,
      0x80000000L, 0xffffffffL, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40};

  private Fuzz() {}

  /** {@value #CASES_PROPERTY} when set, else {@code defaultCases}. */
  public static int cases(int defaultCases) {
    String v = System.getProperty(CASES_PROPERTY);
    return v == null || v.isBlank() ? defaultCases : Integer.parseInt(v.trim());
  }

  /** {@value #SEED_PROPERTY} when set, else {@link #DEFAULT_SEED}. */
  public static long seed() {
    String v = System.getProperty(SEED_PROPERTY);
    return v == null || v.isBlank() ? DEFAULT_SEED : Long.parseLong(v.trim());
  }

  /** One mutated input and the mutations that made it, for the failure message. */
  public record Mutant(byte[] bytes, String how) {}

  /**
   * Mutant number {@code index} of {@code input} under {@code seed}: one to three mutations drawn
   * from a generator seeded by both, so any case is made again alone from its numbers.
   */
  public static Mutant mutant(byte[] input, long seed, long index) {
    Random r = new Random(seed * 0x9E3779B97F4A7C15L + index);
    byte[] b = input.clone();
    List<String> how = new ArrayList<>();
    int n = 1 + r.nextInt(3);
    for (int k = 0; k < n; k++) {
      int pos = b.length == 0 ? 0 : r.nextInt(b.length);
      switch (r.nextInt(7)) {
        case 0, 1 -> {
          if (b.length > 0) {
            int bits = 1 + r.nextInt(4);
            for (int i = 0; i < bits; i++) {
              int at = Math.min(b.length - 1, pos + r.nextInt(4));
              b[at] ^= (byte) (1 << r.nextInt(8));
            }
            how.add("flip " + bits + " bit(s) near byte " + pos);
          }
        }
        case 2 -> {
          b = Arrays.copyOf(b, pos);
          how.add("truncate at " + pos);
        }
        case 3 -> {
          byte[] ins = new byte[1 + r.nextInt(16)];
          r.nextBytes(ins);
          b = splice(b, pos, 0, ins);
          how.add("insert " + ins.length + " byte(s) at " + pos);
        }
        case 4 -> {
          int len = Math.min(b.length - pos, 1 + r.nextInt(32));
          b = splice(b, pos, len, new byte[0]);
          how.add("delete " + len + " byte(s) at " + pos);
        }
        case 5 -> {
          int len = Math.min(b.length - pos, 1 + r.nextInt(64));
          b = splice(b, pos, 0, Arrays.copyOfRange(b, pos, pos + len));
          how.add("duplicate " + len + " byte(s) at " + pos);
        }
        default -> {
          int width = 1 << r.nextInt(4); // 1, 2, 4, 8 bytes
          long v = BOUNDARIES[r.nextInt(BOUNDARIES.length)] + (r.nextBoolean() ? 0 : r.nextInt(3) - 1);
          boolean little = r.nextBoolean();
          for (int i = 0; i < width && pos + i < b.length; i++) {
            int shift = 8 * (little ? i : width - 1 - i);
            b[pos + i] = (byte) (v >>> shift);
          }
          how.add("set " + width + " byte(s) at " + pos + " to " + v + (little ? " LE" : " BE"));
        }
      }
    }
    return new Mutant(b, String.join(", ", how));
  }

  private static byte[] splice(byte[] b, int pos, int remove, byte[] insert) {
    byte[] out = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, out, 0, pos);
    System.arraycopy(insert, 0, out, pos, insert.length);
    System.arraycopy(b, pos + remove, out, pos + insert.length, b.length - pos - remove);
    return out;
  }

  /** Feeds one input to the reader under test; returning is a value, throwing is an error. */
  @FunctionalInterface
  public interface Target {
    void accept(byte[] input, long index) throws Exception;
  }

  /** How the cases ended: values, clear errors, and the first few error messages (for a sanity check). */
  public record Summary(int values, int errors, List<String> sample) {}

  /**
   * Runs {@code cases} mutants of {@code input} (numbers {@code 0 .. cases-1} under {@link #seed()})
   * through {@code target}, each within {@code perCase}.
   *
   * @param what names the reader in failure messages
   * @param clear the reader's clear errors: a throwable it accepts is an expected outcome
   * @throws AssertionFailedError for the first case that ends in anything else or runs too long,
   *     naming the case number, the seed and the mutations (the cause is what was thrown)
   */
  public static Summary run(String what, byte[] input, int cases, Duration perCase, Target target,
      Predicate<Throwable> clear) {
    long seed = seed();
    return run(what, i -> mutant(input, seed, i), cases, perCase, target, clear);
  }

  /** Makes mutant number {@code index} of a format-aware mutator (a length field under a valid CRC, say). */
  @FunctionalInterface
  public interface Mutator {
    Mutant make(long index);
  }

  /** {@link #run(String, byte[], int, Duration, Target, Predicate)} with the test's own mutator. */
  public static Summary run(String what, Mutator mutants, int cases, Duration perCase, Target target,
      Predicate<Throwable> clear) {
    checkArgument(cases >= 0, "cases %s < 0", cases);
    long seed = seed();
    int values = 0;
    int errors = 0;
    List<String> sample = new ArrayList<>();
    for (int i = 0; i < cases; i++) {
      Mutant m = mutants.make(i);
      noteCase(what, seed, i, m);
      Throwable failure = runOne(m.bytes(), i, perCase, target, what, seed, m.how());
      if (failure == null) {
        values++;
      } else if (clear.test(failure)) {
        errors++;
        if (sample.size() < 5) {
          sample.add(failure.getMessage());
        }
      } else {
        throw new AssertionFailedError(what + ": fuzz case " + i + " (seed " + seed + ": " + m.how()
            + ") ended in " + failure + ", which is not one of the reader's clear errors", failure);
      }
    }
    return new Summary(values, errors, List.copyOf(sample));
  }

  /** System property: a file that names the case being run, for runs that a native crash may end. */
  public static final String LAST_CASE_PROPERTY = "upcycle.fuzz.last-case-file";

  /**
   * Writes the case about to run to {@value #LAST_CASE_PROPERTY}'s file when set: a fault that
   * kills the JVM (TensorFlow aborting on a fatal check) leaves no test report, but this file says
   * which case it was.
   */
  private static void noteCase(String what, long seed, long index, Mutant m) {
    String file = System.getProperty(LAST_CASE_PROPERTY);
    if (file == null || file.isBlank()) {
      return;
    }
    try {
      java.nio.file.Files.writeString(java.nio.file.Path.of(file), what + ": case " + index + " of seed " + seed
          + ": " + m.how() + System.lineSeparator());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Runs one input: null when it returned, else what it threw. A timeout fails the test at once. */
  public static Throwable runOne(byte[] input, long index, Duration perCase, Target target, String what, long seed,
      String how) {
    Future<Throwable> result = worker().submit(() -> {
      try {
        target.accept(input, index);
        return null;
      } catch (Throwable t) {
        return t;
      }
    });
    try {
      return result.get(perCase.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      result.cancel(true);
      replaceWorker(); // the stuck thread is abandoned (daemon), the next case gets a fresh one
      throw new AssertionFailedError(what + ": fuzz case " + index + " (seed " + seed + ": " + how
          + ") ran longer than " + perCase + " (a hang?)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionFailedError(what + ": interrupted at fuzz case " + index, e);
    } catch (ExecutionException e) {
      throw new AssertionFailedError(what + ": fuzz case " + index + " could not run", e.getCause());
    }
  }

  /** One daemon thread runs the cases, so a case costs no thread start and a hung one can be left behind. */
  private static ExecutorService worker;

  private static synchronized ExecutorService worker() {
    if (worker == null) {
      worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz-case");
        t.setDaemon(true);
        return t;
      });
    }
    return worker;
  }

  private static synchronized void replaceWorker() {
    worker.shutdownNow();
    worker = null;
  }

  /**
   * The usual contract for a file reader: an exception of one of {@code types} whose message names
   * {@code path} (the file or folder the case was written to; its text, which every case's files
   * contain), and is not a bare JDK message.
   */
  @SafeVarargs
  public static Predicate<Throwable> clearError(String path, Class<? extends Throwable>... types) {
    return t -> Arrays.stream(types).anyMatch(c -> c.isInstance(t)) && t.getMessage() != null
        && t.getMessage().contains(path);
  }
}
