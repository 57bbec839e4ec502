package dev.upcycle.tools.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds Fashion-MNIST as Debian's {@code dataset-fashion-mnist} package installs it
 * ({@code /usr/share/datasets/fashion-mnist/*-ubyte.gz}), or another folder with the same four IDX
 * files given by {@code UPCYCLE_FASHION_MNIST_DIR}. When it is missing and this process runs as
 * root with apt-get, it installs the package; otherwise it says how.
 */
public final class FashionMnist {

  public static final String PACKAGE = "dataset-fashion-mnist";
  public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
  public static final String ENV = "UPCYCLE_FASHION_MNIST_DIR";

  /** The four files of the dataset. */
  public record Files4(Path trainImages, Path trainLabels, Path testImages, Path testLabels) {}

  private FashionMnist() {}

  /** The dataset's files, installing the Debian package first when that is possible. */
  public static Files4 locate(PrintWriter log) throws IOException, InterruptedException {
    String env = System.getenv(ENV);
    Path dir = env != null && !env.isBlank() ? Path.of(env) : DEBIAN_DIR;
    if (complete(dir)) {
      log.printf("dataset: Fashion-MNIST from %s%s%n", dir, dir.equals(DEBIAN_DIR) ? " (Debian package " + PACKAGE + ")" : "");
      return files(dir);
    }
    if (env == null && DebianPackages.canInstall()) {
      log.printf("dataset: Fashion-MNIST is not installed%n");
      DebianPackages.install(PACKAGE, "Fashion-MNIST, ~31 MB", log);
      if (complete(dir)) {
        return files(dir);
      }
    }
    throw new IOException("Fashion-MNIST not found in " + dir + ": install it with `sudo apt-get install " + PACKAGE
        + "` (Debian/Ubuntu), or set " + ENV + " to a folder holding train-images-idx3-ubyte.gz,"
        + " train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz");
  }

  /** The four files in {@code dir} (a user's copy of the dataset), or an error naming what is missing. */
  public static Files4 in(Path dir) throws IOException {
    Files4 f = files(dir);
    for (Path p : List.of(f.trainImages(), f.trainLabels(), f.testImages(), f.testLabels())) {
      if (!Files.isRegularFile(p)) {
        throw new IOException("Fashion-MNIST folder " + dir + ": " + p.getFileName() + " not found (expected"
            + " train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and"
            + " t10k-labels-idx1-ubyte.gz)");
      }
    }
    return f;
  }

  private static Files4 files(Path dir) {
    return new Files4(dir.resolve("train-images-idx3-ubyte.gz"), dir.resolve("train-labels-idx1-ubyte.gz"),
        dir.resolve("t10k-images-idx3-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"));
  }

  private static boolean complete(Path dir) {
    Files4 f = files(dir);
    return List.of(f.trainImages(), f.trainLabels(), f.testImages(), f.testLabels()).stream().allMatch(Files::isRegularFile);
  }
}
