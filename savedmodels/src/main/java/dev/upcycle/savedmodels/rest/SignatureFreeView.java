package dev.upcycle.savedmodels.rest;

import dev.upcycle.savedmodels.ServingVersions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;

/**
 * A temporary folder that stands for a SavedModel version folder but whose {@code saved_model.pb}
 * keeps only the {@code __saved_model_init_op} signature; every other entry is a symbolic link to the
 * original. TensorFlow Java checks every signature against the graph when it loads a model and
 * refuses the whole model for one it finds wrong (TF Serving's own fixture
 * {@code saved_model_half_plus_three} declares DT_FLOAT for a DT_STRING placeholder); TensorFlow's
 * loader and TF Serving do not check. Loading this view loads the same graph and variables, and the
 * signatures are run from the original proto ({@link ServedModel}).
 */
final class SignatureFreeView implements AutoCloseable {

  /** The signature TF Java reads a TF2 model's init op from. */
  static final String INIT_OP_SIGNATURE = "__saved_model_init_op";

  private final Path dir;

  private SignatureFreeView(Path dir) {
    this.dir = dir;
  }

  /** The view of version folder {@code original} whose proto is {@code model}. */
  static SignatureFreeView of(Path original, SavedModel model) throws IOException {
    Path view = Files.createTempDirectory("upcycle-savedmodel-view-");
    try {
      SavedModel.Builder pruned = model.toBuilder();
      for (MetaGraphDef.Builder g : pruned.getMetaGraphsBuilderList()) {
        SignatureDef init = g.getSignatureDefMap().get(INIT_OP_SIGNATURE);
        g.clearSignatureDef();
        if (init != null) {
          g.putSignatureDef(INIT_OP_SIGNATURE, init);
        }
      }
      Files.write(view.resolve(ServingVersions.SAVED_MODEL), pruned.build().toByteArray());
      try (Stream<Path> entries = Files.list(original)) {
        for (Path e : entries.toList()) {
          if (!e.getFileName().toString().equals(ServingVersions.SAVED_MODEL)) {
            Files.createSymbolicLink(view.resolve(e.getFileName().toString()), e.toAbsolutePath());
          }
        }
      }
      return new SignatureFreeView(view);
    } catch (IOException | RuntimeException e) {
      delete(view);
      throw e;
    }
  }

  Path dir() {
    return dir;
  }

  /** Removes the view (its links, not what they point to). */
  @Override
  public void close() throws IOException {
    delete(dir);
  }

  private static void delete(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) { // walk does not follow links
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
