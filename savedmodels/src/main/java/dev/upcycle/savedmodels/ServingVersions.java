package dev.upcycle.savedmodels;

import dev.upcycle.ckpt.AtomicFolder;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.exceptions.TensorFlowException;

/** Finds the SavedModel TF Serving would serve from a folder: the folder itself or its highest numeric version. */
public final class ServingVersions {

  /** The file a version folder holds its MetaGraphs in. */
  public static final String SAVED_MODEL = "saved_model.pb";

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
    SortedMap<Long, Path> versions = versions(dir);
    if (versions.isEmpty()) {
      throw new FileNotFoundException("no SavedModel in " + dir + ": expected " + SAVED_MODEL
          + " there or in a numbered version folder (" + dir.resolve("1") + "/" + SAVED_MODEL + ")");
    }
    return versions.get(versions.lastKey());
  }

  /**
   * The version folders of model base {@code base} by version number: the children whose name is a
   * number ({@code 1}, {@code 00000123}) and that hold {@code saved_model.pb}; stages of
   * {@link AtomicFolder} are skipped. Empty when there are none; two folders of one number
   * ({@code 7}, {@code 007}) keep the first in name order.
   *
   * @throws FileNotFoundException when {@code base} is not a folder
   */
  public static SortedMap<Long, Path> versions(Path base) throws IOException {
    if (!Files.isDirectory(base)) {
      throw new FileNotFoundException("model folder " + base + " does not exist");
    }
    SortedMap<Long, Path> versions = new TreeMap<>();
    try (Stream<Path> children = Files.list(base)) {
      children.sorted().filter(p -> !AtomicFolder.isStage(p) && version(p) >= 0
          && Files.isRegularFile(p.resolve(SAVED_MODEL))).forEach(p -> versions.putIfAbsent(version(p), p));
    }
    return versions;
  }

  /** The version number a folder name stands for, or -1. */
  public static long version(Path p) {
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
    return load(dir, dir);
  }

  /**
   * {@link #load(Path)} of the SavedModel in {@code from}, whose messages name {@code dir} (the
   * folder {@code from} stands for).
   */
  public static SavedModelBundle load(Path from, Path dir) throws IOException {
    try {
      return SavedModelBundle.load(from.toString(), SavedModelExporter.SERVE_TAG);
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
