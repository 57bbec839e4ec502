package dev.upcycle.savedmodels;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;

/** A version folder's {@code saved_model.pb}, read with the protobuf classes TF Java ships. */
public final class SavedModelFile {

  private SavedModelFile() {}

  /**
   * The {@code SavedModel} proto of version folder {@code dir}.
   *
   * @throws FileNotFoundException when {@code dir} has no {@code saved_model.pb}
   * @throws IOException when it is not a SavedModel proto (naming the file)
   */
  public static SavedModel read(Path dir) throws IOException {
    Path file = dir.resolve(ServingVersions.SAVED_MODEL);
    if (!Files.isRegularFile(file)) {
      throw new FileNotFoundException("no " + ServingVersions.SAVED_MODEL + " in " + dir);
    }
    try {
      return SavedModel.parseFrom(Files.readAllBytes(file));
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(file + " is not a SavedModel protocol buffer: " + e.getMessage(), e);
    }
  }

  /**
   * The MetaGraph whose tag set is exactly {@code {serve}}, the one TF Serving (and
   * {@link ServingVersions#load}) loads.
   *
   * @throws IOException naming the tag sets there are when there is none
   */
  public static MetaGraphDef serveGraph(SavedModel model, Path dir) throws IOException {
    Set<String> serve = Set.of(SavedModelExporter.SERVE_TAG);
    for (MetaGraphDef g : model.getMetaGraphsList()) {
      if (new TreeSet<>(g.getMetaInfoDef().getTagsList()).equals(serve)) {
        return g;
      }
    }
    throw new IOException("the SavedModel in " + dir + " has no MetaGraph tagged exactly {serve}; its tag sets: "
        + model.getMetaGraphsList().stream().map(g -> "{" + String.join(",", g.getMetaInfoDef().getTagsList()) + "}")
            .collect(Collectors.joining(" ")));
  }
}
