package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.TextFiles;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Hugging Face {@code config.json} read into our architecture: T5 v1.1 ({@code model_type} t5 or
 * mt5) into a {@link T5Config}, ViT ({@code model_type} vit) into a {@link VitConfig} with
 * {@link VitConfig.Pooling#CLS}. Keys {@code save_pretrained} leaves out take the transformers
 * defaults ({@link HfT5Config}, {@link HfVitConfig}). A config our graphs cannot represent (T5
 * v1.0 {@code relu}, tied embeddings, a ViT without classifier) is refused, naming file, key,
 * value and what is expected. Differences our graph keeps but that change numerics slightly (norm
 * epsilon, exact vs tanh GELU) are listed in {@link #notes()}.
 *
 * @param file the config.json read (named in messages)
 * @param naming {@link HfT5Names#NAMING} or {@link HfVitNames#NAMING}
 * @param arch the architecture
 * @param notes differences between the Hugging Face model and our graph, one sentence each
 */
public record HfConfig(Path file, String naming, ArchitectureConfig arch, List<String> notes) {

  /** The file name of a Hugging Face model folder's configuration. */
  public static final String FILE_NAME = "config.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  public HfConfig {
    checkNotNull(file, "file");
    checkNotNull(naming, "naming of %s", file);
    checkNotNull(arch, "architecture of %s", file);
    notes = List.copyOf(notes);
  }

  /** Reads {@code file} (a {@code config.json}). */
  public static HfConfig read(Path file) throws IOException {
    checkNotNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new CheckpointFormatException(file, null, "no such file; a Hugging Face model folder holds "
          + FILE_NAME + " beside its weights");
    }
    return parse(file, TextFiles.readUtf8(file, null));
  }

  /** Parses the text of a config.json; {@code file} names it in messages. */
  public static HfConfig parse(Path file, String json) throws CheckpointFormatException {
    checkNotNull(file, "file");
    checkNotNull(json, "text of %s", file);
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new CheckpointFormatException(file, null, "not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new CheckpointFormatException(file, null, "expected a JSON object, got " + (root == null ? "nothing"
          : root.getNodeType()));
    }
    HfJson keys = new HfJson(file, root);
    String type = keys.string("model_type", null);
    if (type == null) {
      throw keys.absent("model_type", "none", "one of " + HfT5Config.MODEL_TYPES + " or " + HfVitConfig.MODEL_TYPE);
    }
    if (HfT5Config.MODEL_TYPES.contains(type)) {
      return HfT5Config.parse(keys);
    }
    if (type.equals(HfVitConfig.MODEL_TYPE)) {
      return HfVitConfig.parse(keys);
    }
    throw keys.refuse("model_type", "one of " + HfT5Config.MODEL_TYPES + " (T5 v1.1) or "
        + HfVitConfig.MODEL_TYPE + " (ViT)");
  }

  /** The dense model spec of this architecture. */
  public ModelSpec spec() {
    return ModelSpec.dense(arch);
  }

  /** Layers of the encoder stack (T5 encoder, ViT encoder). */
  public int encoderLayers() {
    return arch instanceof T5Config t ? t.encoderLayers() : ((VitConfig) arch).layers();
  }

  /** Layers of the decoder stack; 0 for ViT. */
  public int decoderLayers() {
    return arch instanceof T5Config t ? t.decoderLayers() : 0;
  }

  /** The name table of this model in {@code dialect}. */
  public HfNameTable table(HfDialect dialect) {
    checkNotNull(dialect, "dialect");
    return arch instanceof T5Config ? HfT5Names.table(dialect) : HfVitNames.table(dialect);
  }
}
