package dev.upcycle.savedmodels;

import dev.upcycle.ckpt.AtomicFolder;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.exceptions.TensorFlowException;

/** Finds the SavedModel TF Serving would serve from a folder: the folder itself or its highest numeric version. */
public final class ServingVersions {

  static final String SAVED_MODEL = "saved_model.pb";

  private ServingVersions() {}

  /**
   * {@code dir} when it holds {@code saved_model.pb} (a version folder such as {@code BASE/1}), else
   * the version folder of {@code dir} (a model base) with the highest number that holds one, as TF
   * Serving's default version policy picks it. Stages of {@link AtomicFolder} (an export being
   * written) and folders whose name is not a number are ignored.
   *
   * @throws FileNotFoundException when neither is there
   */
  public static Path resolve(Path dir) throws IOException {
    if (Files.isRegularFile(dir.resolve(SAVED_MODEL))) {
      return dir;
    }
    if (!Files.isDirectory(dir)) {
      throw new FileNotFoundException("model folder " + dir + " does not exist");
    }
    Optional<Path> latest;
    try (Stream<Path> children = Files.list(dir)) {
      latest = children.filter(p -> !AtomicFolder.isStage(p) && version(p) >= 0
              && Files.isRegularFile(p.resolve(SAVED_MODEL)))
          .max((a, b) -> Long.compare(version(a), version(b)));
    }
    return latest.orElseThrow(() -> new FileNotFoundException("no SavedModel in " + dir + ": expected "
        + SAVED_MODEL + " there or in a numbered version folder (" + dir.resolve("1") + "/" + SAVED_MODEL + ")"));
  }

  /** The version number a folder name stands for, or -1. */
  private static long version(Path p) {
    String name = p.getFileName().toString();
    if (name.isEmpty() || name.length() > 18 || !name.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return -1;
    }
    return Long.parseLong(name);
  }

  /**
   * Loads the SavedModel in version folder {@code dir} with the {@code serve} tag. A failure to
   * restore the variables (a truncated or corrupt {@code variables/} bundle: TensorFlow says only
   * "Read less bytes than requested") names the variables files and their sizes.
   *
   * @throws IllegalStateException when TensorFlow cannot load the model
   */
  public static SavedModelBundle load(Path dir) throws IOException {
    try {
      return SavedModelBundle.load(dir.toString(), SavedModelExporter.SERVE_TAG);
    } catch (TensorFlowException e) {
      String tf = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
      if (e.getMessage() != null && e.getMessage().contains("RestoreV2")) {
        Path variables = dir.resolve("variables");
        StringBuilder files = new StringBuilder();
        if (Files.isDirectory(variables)) {
          try (Stream<Path> s = Files.list(variables)) {
            for (Path f : s.sorted().toList()) {
              files.append(files.length() == 0 ? "" : ", ").append(f.getFileName()).append(" (")
                  .append(Files.size(f)).append(" bytes)");
            }
          }
        }
        throw new IllegalStateException("cannot restore the variables of the SavedModel " + dir + ": " + tf
            + "; the variables files in " + variables + " are truncated or corrupt: " + files, e);
      }
      throw new IllegalStateException("cannot load the SavedModel " + dir + ": " + tf, e);
    }
  }
}
