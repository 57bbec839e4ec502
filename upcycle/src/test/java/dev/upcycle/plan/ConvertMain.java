package dev.upcycle.plan;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A child-process entry point for {@link KillDuringConvertTest}: converts args[0] into args[1]
 * with E = args[2] and noise, printing {@code TENSOR n} after each tensor and {@code COMMITTED}.
 */
public final class ConvertMain {

  private ConvertMain() {}

  public static void main(String[] args) throws Exception {
    UpcycleOptions o = UpcycleOptions.defaults(Integer.parseInt(args[2])).withNoise(0.01);
    ConvertJob.run(Path.of(args[0]), Path.of(args[1]), o, Optional.empty(), false, false, new ProgressListener() {
      @Override
      public void tensorWritten(int done, int total, String name, long bytes) {
        System.out.println("TENSOR " + done + " " + total);
        System.out.flush();
      }
    });
    System.out.println("COMMITTED");
  }
}
