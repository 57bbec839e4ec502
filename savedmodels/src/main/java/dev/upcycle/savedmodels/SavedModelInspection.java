package dev.upcycle.savedmodels;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * What {@code inspect} shows about a SavedModel, as {@code saved_model_cli show --all} does, from
 * {@code saved_model.pb} alone: the versions of the model base, and for the version shown (the one
 * TF Serving would serve, or the version folder given) every MetaGraph's tags and TensorFlow version
 * and every signature with its method and its inputs and outputs (key, dtype, shape — {@code -1}
 * for a dimension of any size, {@code unknown rank} when the rank is not known — and graph tensor).
 *
 * @param path the folder given: a model base or a version folder
 * @param versions the version folders of the model base by number (the given folder's parent when
 *     a version folder was given and its parent holds it; else only the given folder, under -1 when its
 *     name is not a number)
 * @param dir the version folder shown
 */
public record SavedModelInspection(Path path, SortedMap<Long, Path> versions, Path dir, SavedModel proto) {

  public SavedModelInspection {
    checkNotNull(path, "path");
    checkNotNull(dir, "dir");
    checkNotNull(proto, "proto");
    versions = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(versions));
  }

  /** True when {@code path} is a SavedModel version folder or a model base holding one. */
  public static boolean isSavedModel(Path path) throws IOException {
    return Files.isRegularFile(path.resolve(ServingVersions.SAVED_MODEL))
        || Files.isDirectory(path) && !ServingVersions.versions(path).isEmpty();
  }

  /**
   * Reads {@code path} (a model base: its latest version is shown; or a version folder).
   *
   * @throws FileNotFoundException when it holds no SavedModel
   */
  public static SavedModelInspection of(Path path) throws IOException {
    Path dir = ServingVersions.resolve(path);
    SortedMap<Long, Path> versions;
    if (!dir.equals(path)) {
      versions = ServingVersions.versions(path);
    } else {
      Path parent = dir.toAbsolutePath().getParent();
      SortedMap<Long, Path> siblings = parent == null ? new TreeMap<>() : ServingVersions.versions(parent);
      long own = ServingVersions.version(dir);
      versions = own >= 0 && siblings.containsKey(own) ? siblings : new TreeMap<>(Map.of(own, dir));
    }
    return new SavedModelInspection(path, versions, dir, SavedModelFile.read(dir));
  }

  /** The number of the version shown, -1 when its folder's name is not a number. */
  public long version() {
    return ServingVersions.version(dir);
  }

  /** True when the version has a {@code variables/} bundle (a SavedModel of constants has none). */
  public boolean hasVariables() {
    return Files.isRegularFile(dir.resolve("variables").resolve("variables.index"));
  }

  /** Text: the versions, then per MetaGraph its tags and signatures. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    sb.append("saved model: ").append(path).append('\n');
    String numbers = versions.keySet().stream().filter(v -> v >= 0).map(String::valueOf)
        .collect(Collectors.joining(", "));
    sb.append("versions: ").append(numbers.isEmpty() ? "none numbered" : numbers).append("; showing ")
        .append(version() >= 0 ? "version " + version() + " " : "").append(dir).append('\n');
    for (MetaGraphDef g : proto.getMetaGraphsList()) {
      sb.append("meta graph: tags {").append(String.join(", ", g.getMetaInfoDef().getTagsList())).append("}, ")
          .append(g.getSignatureDefCount()).append(" signatures, written by TensorFlow ")
          .append(g.getMetaInfoDef().getTensorflowVersion()).append('\n');
      for (Map.Entry<String, SignatureDef> s : new TreeMap<>(g.getSignatureDefMap()).entrySet()) {
        String method = s.getValue().getMethodName();
        sb.append("  signature '").append(s.getKey()).append("'")
            .append(method.isEmpty() ? "" : ": method " + method).append('\n');
        tensors(sb, "input ", s.getValue().getInputsMap());
        tensors(sb, "output", s.getValue().getOutputsMap());
      }
    }
    return sb.toString();
  }

  private static void tensors(StringBuilder sb, String kind, Map<String, TensorInfo> infos) {
    for (Map.Entry<String, TensorInfo> t : new TreeMap<>(infos).entrySet()) {
      TensorInfo i = t.getValue();
      sb.append("    ").append(kind).append(' ').append(t.getKey()).append(": ").append(i.getDtype().name()).append(' ')
          .append(shapeText(i.getTensorShape())).append(" (").append(tensorText(i)).append(")\n");
    }
  }

  /** {@code [-1,28,28,1]}, {@code []} for a scalar, {@code unknown rank}. */
  static String shapeText(TensorShapeProto shape) {
    if (shape.getUnknownRank()) {
      return "unknown rank";
    }
    return shape.getDimList().stream().map(d -> Long.toString(d.getSize())).collect(Collectors.joining(",", "[", "]"));
  }

  /** The graph tensor: {@code x:0}, or the parts of a sparse or composite encoding. */
  private static String tensorText(TensorInfo i) {
    return switch (i.getEncodingCase()) {
      case NAME -> i.getName();
      case COO_SPARSE -> "coo_sparse values " + i.getCooSparse().getValuesTensorName() + ", indices "
          + i.getCooSparse().getIndicesTensorName() + ", dense_shape " + i.getCooSparse().getDenseShapeTensorName();
      case COMPOSITE_TENSOR -> "composite tensor of " + i.getCompositeTensor().getComponentsCount() + " components";
      default -> "no tensor";
    };
  }

  /** JSON: {@code {path, versions, version, dir, meta_graphs: [{tags, tensorflow_version, signatures}]}}. */
  public ObjectNode toJson(JsonMapper json) {
    ObjectNode root = json.createObjectNode();
    root.put("path", path.toString());
    ArrayNode vs = root.putArray("versions");
    versions.keySet().stream().filter(v -> v >= 0).forEach(vs::add);
    if (version() >= 0) {
      root.put("version", version());
    } else {
      root.putNull("version");
    }
    root.put("dir", dir.toString());
    ArrayNode graphs = root.putArray("meta_graphs");
    for (MetaGraphDef g : proto.getMetaGraphsList()) {
      ObjectNode gn = graphs.addObject();
      ArrayNode tags = gn.putArray("tags");
      g.getMetaInfoDef().getTagsList().forEach(tags::add);
      gn.put("tensorflow_version", g.getMetaInfoDef().getTensorflowVersion());
      ArrayNode sigs = gn.putArray("signatures");
      for (Map.Entry<String, SignatureDef> s : new TreeMap<>(g.getSignatureDefMap()).entrySet()) {
        ObjectNode sn = sigs.addObject();
        sn.put("name", s.getKey());
        sn.put("method", s.getValue().getMethodName());
        sn.set("inputs", tensorsJson(json, s.getValue().getInputsMap()));
        sn.set("outputs", tensorsJson(json, s.getValue().getOutputsMap()));
      }
    }
    return root;
  }

  private static JsonNode tensorsJson(JsonMapper json, Map<String, TensorInfo> infos) {
    ArrayNode list = json.createArrayNode();
    for (Map.Entry<String, TensorInfo> t : new TreeMap<>(infos).entrySet()) {
      ObjectNode n = list.addObject();
      TensorInfo i = t.getValue();
      n.put("key", t.getKey());
      n.put("dtype", i.getDtype().name());
      if (i.getTensorShape().getUnknownRank()) {
        n.putNull("shape");
      } else {
        ArrayNode shape = n.putArray("shape");
        i.getTensorShape().getDimList().forEach(d -> shape.add(d.getSize()));
      }
      n.put("unknown_rank", i.getTensorShape().getUnknownRank());
      n.put("tensor", tensorText(i));
    }
    return list;
  }
}
