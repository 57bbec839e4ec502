package dev.upcycle.tools.cli;

import dev.upcycle.train.data.Compression;
import dev.upcycle.train.data.IdxImages;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle data images}: IDX image + label files → a folder with a TFRecord of image Examples and its provenance. */
@Command(name = "images", description = "Convert IDX image/label files (e.g. Debian's dataset-fashion-mnist) into a folder"
    + " holding a TFRecord and provenance.json.")
public final class ImagesCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--idx", required = true, paramLabel = "IMAGES", description = "IDX images file (plain or .gz).")
  Path images;

  @Option(names = "--labels", required = true, paramLabel = "LABELS", description = "IDX labels file (plain or .gz).")
  Path labels;

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "Output folder (must not exist; appears atomically) for the TFRecord and provenance.json;"
          + " pass it to train --data.")
  Path out;

  @Option(names = "--gzip", description = "Write a GZIP-compressed TFRecord.")
  boolean gzip;

  @Override
  public Integer call() throws Exception {
    InputFiles.check("--idx", images);
    InputFiles.check("--labels", labels);
    IdxImages.Output o = IdxImages.toTfRecordFolder(images, labels, out, gzip ? Compression.GZIP : Compression.NONE);
    spec.commandLine().getOut().printf("wrote %d examples to %s%n", o.examples(), o.records());
    return 0;
  }
}
