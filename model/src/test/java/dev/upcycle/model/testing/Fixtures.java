package dev.upcycle.model.testing;

import static com.google.common.base.Preconditions.checkState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * Locates the shared, read-only fixtures ({@code ../shared/fixtures} beside the project root) and
 * copies one to a temporary folder when a test must write beside it.
 */
public final class Fixtures {

  private Fixtures() {}

  /** The {@code shared} folder: system property {@code upcycle.shared.dir}, else ../shared upwards. */
  public static Path sharedDir() {
    String prop = System.getProperty("upcycle.shared.dir");
    if (prop != null && Files.isDirectory(Paths.get(prop))) {
      return Paths.get(prop).toAbsolutePath().normalize();
    }
    Path dir = Paths.get("").toAbsolutePath();
    while (dir != null) {
      Path candidate = dir.resolveSibling("shared");
      if (Files.isDirectory(candidate.resolve("fixtures"))) {
        return candidate;
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("cannot find ../shared/fixtures; set -Dupcycle.shared.dir");
  }

  /** A fixture folder or file by its path under {@code shared/fixtures}. */
  public static Path fixture(String relative) {
    Path p = sharedDir().resolve("fixtures").resolve(relative);
    checkState(Files.exists(p), "fixture %s is missing", p);
    return p;
  }

  /** Copies a fixture (file or folder tree) into {@code target} and returns the copy's path. */
  public static Path copyTo(String relative, Path target) throws IOException {
    Path src = fixture(relative);
    Path dst = target.resolve(src.getFileName().toString());
    try (Stream<Path> walk = Files.walk(src)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path out = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(out);
        } else {
          Files.copy(p, out, StandardCopyOption.REPLACE_EXISTING);
          out.toFile().setWritable(true);
        }
      }
    }
    return dst;
  }
}
