package dev.upcycle.tools.cli;

import dev.upcycle.ckpt.FileErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The one check of a file given on the command line ({@code --map}, {@code --spm}, {@code --in},
 * {@code --idx}, {@code --labels}, {@code --config}, {@code --request}), run before a command does
 * any work: {@code --FLAG: PATH not found}, {@code ... is a directory, expected a file} or
 * {@code ... cannot be read (REASON)}, as an {@link IllegalArgumentException} (exit 1).
 */
final class InputFiles {

  private InputFiles() {}

  /** {@code path} when it is a regular file this process can open for reading. */
  static Path check(String flag, Path path) {
    if (Files.isDirectory(path)) {
      throw new IllegalArgumentException(flag + ": " + path + " is a directory, expected a file");
    }
    if (Files.notExists(path)) {
      throw new IllegalArgumentException(flag + ": " + path + " not found");
    }
    try (InputStream in = Files.newInputStream(path)) {
      return path;
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + ": " + path + " cannot be read (" + reason(e) + ")", e);
    }
  }

  /** {@link #check} for each of {@code paths}. */
  static List<Path> check(String flag, List<Path> paths) {
    paths.forEach(p -> check(flag, p));
    return paths;
  }

  private static String reason(IOException e) {
    return FileErrors.reason(e);
  }
}
