package dev.upcycle.model.testing;

import static com.google.common.base.Preconditions.checkState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * Locates the repository's read-only fixtures ({@code testdata/} at the project root, see its
 * {@code MANIFEST.md}) and copies one to a temporary folder when a test must write beside it.
 */
public final class Fixtures {

  /** The folder, relative to the project root, that holds the fixtures. */
  public static final String FOLDER = "testdata";

  private Fixtures() {}

  /**
   * The fixture folder: system property {@code upcycle.testdata.dir} (set by the build), else the
   * first {@code testdata/} with a {@code MANIFEST.md} in the working folder or above it.
   */
  public static Path testdataDir() {
    String prop = System.getProperty("upcycle.testdata.dir");
    if (prop != null && Files.isDirectory(Paths.get(prop))) {
      return Paths.get(prop).toAbsolutePath().normalize();
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(FOLDER);
      if (Files.isRegularFile(candidate.resolve("MANIFEST.md"))) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "cannot find the project's " + FOLDER + "/ folder; set -Dupcycle.testdata.dir");
  }

  /** A fixture folder or file by its path under {@code testdata/}. */
  public static Path fixture(String relative) {
    Path p = testdataDir().resolve(relative);
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
