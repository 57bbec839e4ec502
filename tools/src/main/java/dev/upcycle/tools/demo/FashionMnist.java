package dev.upcycle.tools.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
    if (env == null && canInstall()) {
      log.printf("dataset: Fashion-MNIST is not installed; installing Debian package %s (apt-get, ~31 MB)%n", PACKAGE);
      log.flush();
      if (run("apt-get", "install", "-y", "-qq", PACKAGE) != 0) {
        run("apt-get", "update", "-qq");
        run("apt-get", "install", "-y", "-qq", PACKAGE);
      }
      if (complete(dir)) {
        return files(dir);
      }
    }
    throw new IOException("Fashion-MNIST not found in " + dir + ": install it with `sudo apt-get install " + PACKAGE
        + "` (Debian/Ubuntu), or set " + ENV + " to a folder holding train-images-idx3-ubyte.gz,"
        + " train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz");
  }

  private static Files4 files(Path dir) {
    return new Files4(dir.resolve("train-images-idx3-ubyte.gz"), dir.resolve("train-labels-idx1-ubyte.gz"),
        dir.resolve("t10k-images-idx3-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"));
  }

  private static boolean complete(Path dir) {
    Files4 f = files(dir);
    return List.of(f.trainImages(), f.trainLabels(), f.testImages(), f.testLabels()).stream().allMatch(Files::isRegularFile);
  }

  private static boolean canInstall() {
    return "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/apt-get"));
  }

  private static int run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    p.getOutputStream().close();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
