package dev.upcycle.savedmodels.server;

import dev.upcycle.savedmodels.SavedModelFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.tensorflow.proto.MetaGraphDef;

/**
 * Whether a version folder is complete enough to load: what TensorFlow's SavedModel loader (the one
 * TF Serving runs) reads must all be there. TF Serving itself loads any numbered folder and relies on
 * writers to move it into place atomically (as {@code AtomicFolder} does); a folder being copied
 * by hand is half there, and loading it fails or, worse, reads a partial file. Here a folder is
 * complete when {@code saved_model.pb} parses as a SavedModel and, when its {@code serve}
 * MetaGraph restores variables (a {@code SaverDef}) or it has a {@code variables/} folder,
 * {@code variables/variables.index} and every data shard {@code variables.data-0000i-of-0000n}
 * are present. {@link #fingerprint} lets the watcher also require the files to have stopped
 * changing between two polls.
 */
final class VersionFolder {

  /** {@code variables.data-00000-of-00002}: shard 0 of 2. */
  private static final Pattern SHARD = Pattern.compile("variables\\.data-(\\d{5})-of-(\\d{5})");

  private VersionFolder() {}

  /** Why {@code dir} is not complete yet, or empty when it is. */
  static Optional<String> incomplete(Path dir) {
    MetaGraphDef serve;
    try {
      serve = SavedModelFile.serveGraph(SavedModelFile.read(dir), dir);
    } catch (IOException e) {
      return Optional.of(e.getMessage());
    }
    Path variables = dir.resolve("variables");
    boolean restores = serve.hasSaverDef() && !serve.getSaverDef().getRestoreOpName().isEmpty();
    if (!restores && !Files.exists(variables)) {
      return Optional.empty(); // a graph of constants (TF Serving's matrix_half_plus_two)
    }
    if (!Files.isRegularFile(variables.resolve("variables.index"))) {
      return Optional.of("no " + variables.resolve("variables.index"));
    }
    TreeSet<Integer> shards = new TreeSet<>();
    int of = -1;
    try (Stream<Path> files = Files.list(variables)) {
      for (Path f : files.toList()) {
        Matcher m = SHARD.matcher(f.getFileName().toString());
        if (m.matches()) {
          shards.add(Integer.parseInt(m.group(1)));
          of = Math.max(of, Integer.parseInt(m.group(2)));
        }
      }
    } catch (IOException e) {
      return Optional.of("cannot list " + variables + ": " + e.getMessage());
    }
    if (of < 1) {
      return Optional.of("no variables.data-*-of-* shard in " + variables);
    }
    for (int i = 0; i < of; i++) {
      if (!shards.contains(i)) {
        return Optional.of(String.format("shard variables.data-%05d-of-%05d missing in %s", i, of, variables));
      }
    }
    return Optional.empty();
  }

  /**
   * Every regular file under {@code dir} with its size and modification time, sorted: equal
   * fingerprints at two polls mean nothing was written in between. Files that vanish while being
   * listed make the fingerprint differ from any other.
   */
  static List<String> fingerprint(Path dir) {
    List<String> entries = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path f : walk.sorted().toList()) {
        if (Files.isRegularFile(f)) {
          entries.add(dir.relativize(f) + " " + Files.size(f) + " " + Files.getLastModifiedTime(f).toMillis());
        }
      }
    } catch (NoSuchFileException | UncheckedIOException e) {
      entries.add("changing: " + e.getMessage() + " " + System.nanoTime());
    } catch (IOException e) {
      entries.add("unreadable: " + e.getMessage() + " " + System.nanoTime());
    }
    return entries;
  }

}
