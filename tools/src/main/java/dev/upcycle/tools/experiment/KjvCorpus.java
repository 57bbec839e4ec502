package dev.upcycle.tools.experiment;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.tools.demo.DebianPackages;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * English text from a Debian package: the King James Bible as Debian's {@code bible-kjv} prints it
 * ({@code bible -f "gen1:1-rev22:21"}: 31,102 verses, ~4.4 MB, one verse per line after a
 * {@code Ge1:1} reference, which is cut off). Every {@value #HELD_OUT_EVERY}th verse is held out.
 */
public final class KjvCorpus {

  public static final String PACKAGE = "bible-kjv";
  public static final String PROGRAM = "bible";
  public static final String ALL_VERSES = "gen1:1-rev22:21";
  public static final int HELD_OUT_EVERY = 20;
  public static final String TRAIN = "train.txt";
  public static final String HELD_OUT = "heldout.txt";

  /** The corpus files and their verse counts. */
  public record Files2(Path train, Path heldOut, long trainVerses, long heldOutVerses) {}

  private KjvCorpus() {}

  /**
   * Writes the corpus into {@code folder} (published atomically) unless it is there.
   *
   * @param maxVerses the first verses only (0 = all)
   */
  public static Files2 prepare(Path folder, int maxVerses, PrintWriter log) throws IOException, InterruptedException {
    checkArgument(maxVerses >= 0, "maxVerses must be >= 0, got %s", maxVerses);
    if (!complete(folder)) {
      Path bible = DebianPackages.command(PROGRAM, PACKAGE, log);
      Process p = new ProcessBuilder(bible.toString(), "-f", ALL_VERSES).redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      p.getOutputStream().close();
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        split(in, KjvCorpus::verseText, folder, maxVerses, bible + " -f " + ALL_VERSES
            + " printed no verses (expected lines such as 'Ge1:1 In the beginning ...'): is Debian's " + PACKAGE
            + " package complete?");
      } finally {
        p.destroy();
        p.waitFor(10, TimeUnit.SECONDS);
      }
      log.printf("data: King James Bible (Debian %s) in %s%n", PACKAGE, folder);
    }
    return files(folder);
  }

  /**
   * The same split of a user's text file (one document per non-blank line) into {@code folder},
   * unless it is there.
   */
  public static Files2 prepareFrom(Path text, Path folder, int maxLines, PrintWriter log) throws IOException {
    checkArgument(maxLines >= 0, "maxLines must be >= 0, got %s", maxLines);
    if (!complete(folder)) {
      try (BufferedReader in = Files.newBufferedReader(text, StandardCharsets.UTF_8)) {
        split(in, String::strip, folder, maxLines, text + " holds no non-blank line: expected one document per line");
      }
      log.printf("data: %s split into %s%n", text, folder);
    }
    return files(folder);
  }

  private static boolean complete(Path folder) {
    return Files.isRegularFile(folder.resolve(TRAIN)) && Files.isRegularFile(folder.resolve(HELD_OUT));
  }

  private static Files2 files(Path folder) throws IOException {
    return new Files2(folder.resolve(TRAIN), folder.resolve(HELD_OUT), lines(folder.resolve(TRAIN)),
        lines(folder.resolve(HELD_OUT)));
  }

  /** Every {@value #HELD_OUT_EVERY}th document to the held-out file, the rest to the training file. */
  private static void split(BufferedReader in, java.util.function.UnaryOperator<String> textOf, Path folder, int max,
      String emptyMessage) throws IOException {
    long train = 0;
    long held = 0;
    try (AtomicFolder out = AtomicFolder.stage(folder, true)) {
      try (BufferedWriter t = Files.newBufferedWriter(out.path().resolve(TRAIN), StandardCharsets.UTF_8);
          BufferedWriter h = Files.newBufferedWriter(out.path().resolve(HELD_OUT), StandardCharsets.UTF_8)) {
        String line;
        long doc = 0;
        while ((line = in.readLine()) != null && (max == 0 || doc < max)) {
          String text = textOf.apply(line);
          if (text.isEmpty()) {
            continue;
          }
          doc++;
          BufferedWriter w = doc % HELD_OUT_EVERY == 0 ? h : t;
          w.write(text);
          w.newLine();
          if (w == h) {
            held++;
          } else {
            train++;
          }
        }
      }
      if (train == 0 || held == 0) {
        throw new IOException(emptyMessage + " (" + train + " training and " + held + " held-out documents; at least "
            + HELD_OUT_EVERY + " are needed)");
      }
      out.commit();
    }
  }

  /** The text of one line {@code bible -f} prints: the part after the verse reference. */
  static String verseText(String line) {
    int space = line.indexOf(' ');
    return space < 0 ? "" : line.substring(space + 1).strip();
  }

  private static long lines(Path file) throws IOException {
    try (var s = Files.lines(file, StandardCharsets.UTF_8)) {
      return s.count();
    }
  }
}
