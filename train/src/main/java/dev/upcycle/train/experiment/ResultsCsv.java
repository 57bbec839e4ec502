package dev.upcycle.train.experiment;

import dev.upcycle.ckpt.Folders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Every evaluation point of an experiment as one CSV file (header row, then one row per point). */
public final class ResultsCsv {

  /** The columns, in order. */
  public static final List<String> COLUMNS = List.of("branch", "kind", "seed", "budget", "step", "branch_steps",
      "flops", "extra_compute", "wall_seconds", "loss", "cross_entropy", "accuracy");

  private ResultsCsv() {}

  /** Writes {@code points} to {@code file} atomically. */
  public static void write(List<EvalPoint> points, Path file) throws IOException {
    StringBuilder sb = new StringBuilder(String.join(",", COLUMNS)).append('\n');
    for (EvalPoint p : points) {
      sb.append(String.format(Locale.ROOT, "%s,%s,%d,%.4f,%d,%d,%.6e,%.6f,%.3f,%.6f,%.6f,%.6f%n", p.branch(),
          p.kind().name().toLowerCase(Locale.ROOT), p.seed(), p.budget(), p.step(), p.branchSteps(), p.flops(),
          p.extraCompute(), p.wallSeconds(), p.loss(), p.crossEntropy(), p.accuracy()));
    }
    java.nio.file.Files.deleteIfExists(file);
    Folders.writeAtomically(file, sb.toString().getBytes(StandardCharsets.UTF_8));
  }
}
