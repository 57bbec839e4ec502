package dev.upcycle.tools.cli;

import dev.upcycle.train.data.Compression;
import dev.upcycle.train.data.IdxImages;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle data images}: IDX image + label files → a TFRecord of image Examples. */
@Command(name = "images", description = "Convert IDX image/label files (e.g. Debian's dataset-fashion-mnist) into a TFRecord.")
public final class ImagesCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--idx", required = true, paramLabel = "IMAGES", description = "IDX images file (plain or .gz).")
  Path images;

  @Option(names = "--labels", required = true, paramLabel = "LABELS", description = "IDX labels file (plain or .gz).")
  Path labels;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output TFRecord file (written atomically).")
  Path out;

  @Option(names = "--gzip", description = "Write a GZIP-compressed TFRecord.")
  boolean gzip;

  @Override
  public Integer call() throws Exception {
    long n = IdxImages.toTfRecord(images, labels, out, gzip ? Compression.GZIP : Compression.NONE);
    spec.commandLine().getOut().printf("wrote %d examples to %s%n", n, out);
    return 0;
  }
}
