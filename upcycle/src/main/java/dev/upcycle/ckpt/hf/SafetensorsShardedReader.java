package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.TextFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * Reads a sharded Hugging Face safetensors checkpoint: the index {@code
 * model.safetensors.index.json} ({@code {"metadata": {"total_size": ...}, "weight_map": {tensor:
 * shard file}}}) and the shard files beside it ({@code model-00001-of-00002.safetensors}, ...), each
 * read by a {@link SafetensorsReader}. Opening checks that the index and the shards agree: every
 * shard the index names exists (all missing ones are named), shard names are plain file names in
 * the index's folder (no {@code /}, {@code \}, {@code ..}), no tensor is in two shards, and every
 * tensor is in exactly the shard the index maps it to. Shards the index does not name are ignored.
 */
public final class SafetensorsShardedReader implements CheckpointReader {

  private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final Path indexFile;
  private final Map<String, SafetensorsReader> byTensor;
  private final List<SafetensorsReader> shards;
  private final List<TensorInfo> infos;
  private final OptionalLong totalSize;

  private SafetensorsShardedReader(Path indexFile, Map<String, SafetensorsReader> byTensor,
      List<SafetensorsReader> shards, OptionalLong totalSize) {
    this.indexFile = indexFile;
    this.byTensor = byTensor;
    this.shards = List.copyOf(shards);
    List<TensorInfo> all = new ArrayList<>();
    for (SafetensorsReader s : shards) {
      all.addAll(s.tensors());
    }
    all.sort((a, b) -> a.name().compareTo(b.name()));
    this.infos = List.copyOf(all);
    this.totalSize = totalSize;
  }

  /** Opens the index file and every shard it names, checking that they agree. */
  public static SafetensorsShardedReader open(Path indexFile) throws IOException {
    checkNotNull(indexFile, "indexFile");
    if (!Files.isRegularFile(indexFile)) {
      throw new NoSuchFileException(indexFile.toString(), null, "no safetensors index file here");
    }
    JsonNode root;
    try {
      root = JSON.readTree(TextFiles.readUtf8(indexFile, null)); // not a parser's encoding guess (fuzz case 1657)
    } catch (JsonProcessingException e) {
      throw new CheckpointFormatException(indexFile, null, "not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new CheckpointFormatException(indexFile, null, "the index is not a JSON object");
    }
    JsonNode map = root.get("weight_map");
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw new CheckpointFormatException(indexFile, null,
          "the index has no weight_map object mapping tensor names to shard files");
    }
    Map<String, String> weightMap = new TreeMap<>();
    Map<String, List<String>> tensorsOfShard = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      String tensor = e.getKey();
      if (!e.getValue().isTextual()) {
        throw new CheckpointFormatException(indexFile, tensor, "weight_map value is " + e.getValue().getNodeType()
            + ", expected a shard file name");
      }
      String shard = e.getValue().textValue();
      if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.contains("..")
          || shard.indexOf('\0') >= 0) {
        throw new CheckpointFormatException(indexFile, tensor, "weight_map names shard '" + shard.replace("\0", "\\0")
            + "'; a shard must be a plain file name beside the index (no '/', '\\', '..' or NUL)");
      }
      weightMap.put(tensor, shard);
      tensorsOfShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(tensor);
    }
    Path dir = indexFile.toAbsolutePath().getParent();
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, List<String>> s : tensorsOfShard.entrySet()) {
      if (!Files.isRegularFile(dir.resolve(s.getKey()))) {
        missing.add(s.getKey() + " (" + s.getValue().size() + " tensors, e.g. '" + s.getValue().get(0) + "')");
      }
    }
    if (!missing.isEmpty()) {
      throw new CheckpointFormatException(indexFile, null, "shard" + (missing.size() > 1 ? "s " : " ")
          + String.join(", ", missing) + " named in the index " + (missing.size() > 1 ? "are" : "is")
          + " missing from " + dir + " (incomplete download?)");
    }
    Map<String, SafetensorsReader> byTensor = new TreeMap<>();
    Map<String, SafetensorsReader> shards = new LinkedHashMap<>();
    for (String shard : tensorsOfShard.keySet()) {
      SafetensorsReader r = SafetensorsReader.open(dir.resolve(shard));
      shards.put(shard, r);
      for (TensorInfo t : r.tensors()) {
        SafetensorsReader other = byTensor.putIfAbsent(t.name(), r);
        if (other != null) {
          throw new CheckpointFormatException(indexFile, t.name(), "is in two shards, "
              + other.source().getFileName() + " and " + shard);
        }
        String mapped = weightMap.get(t.name());
        if (mapped == null) {
          throw new CheckpointFormatException(indexFile, t.name(), "is in shard " + shard
              + " but not in the index's weight_map");
        }
        if (!mapped.equals(shard)) {
          throw new CheckpointFormatException(indexFile, t.name(), "the index maps it to " + mapped
              + " but it is in " + shard);
        }
      }
    }
    for (Map.Entry<String, String> e : weightMap.entrySet()) {
      if (!byTensor.containsKey(e.getKey())) {
        throw new CheckpointFormatException(indexFile, e.getKey(), "the index maps it to " + e.getValue()
            + " but that shard does not hold it");
      }
    }
    JsonNode size = root.path("metadata").path("total_size");
    OptionalLong totalSize = size.isIntegralNumber() && size.canConvertToLong()
        ? OptionalLong.of(size.longValue()) : OptionalLong.empty();
    return new SafetensorsShardedReader(indexFile, byTensor, new ArrayList<>(shards.values()), totalSize);
  }

  /** The index file. */
  @Override
  public Path source() {
    return indexFile;
  }

  @Override
  public String format() {
    return SafetensorsReader.FORMAT;
  }

  @Override
  public List<TensorInfo> tensors() {
    return infos;
  }

  /** The shard readers, in shard-name order. */
  public List<SafetensorsReader> shards() {
    return shards;
  }

  /** The index's {@code metadata.total_size} (informational: not checked), when present. */
  public OptionalLong totalSize() {
    return totalSize;
  }

  @Override
  public RawTensor read(String name) throws IOException {
    checkNotNull(name, "name");
    SafetensorsReader r = byTensor.get(name);
    if (r == null) {
      throw new CheckpointFormatException(indexFile, name, "no such tensor in this checkpoint");
    }
    return r.read(name);
  }

  @Override
  public void close() {
    // The shard readers hold nothing open between reads.
  }
}
