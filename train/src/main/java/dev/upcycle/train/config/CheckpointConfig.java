package dev.upcycle.train.config;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.inspect.SpecFacts;
import dev.upcycle.model.config.ConfigJson;
import dev.upcycle.model.config.SpecConfig;
import dev.upcycle.provenance.ArtifactSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The config of a job that starts from a checkpoint ({@code train --init}, {@code train --resume},
 * {@code eval}, {@code export}): the model comes from the checkpoint ({@link ArtifactSpec}: its
 * provenance, a step folder's {@code config.json}, or its tensors), so no model flag is needed.
 * A config file and {@code --set} may still override; an override of a fact that fixes the
 * checkpoint's tensors ({@link SpecFacts}: sizes, expert count, MoE layers) that disagrees with the
 * checkpoint is refused before any graph is built, naming the key, the checkpoint's value and the
 * flag's. Router settings, lengths, batch and optimizer are free.
 */
public final class CheckpointConfig {

  private CheckpointConfig() {}

  /**
   * What {@link #resolve} found.
   *
   * @param config the job's config
   * @param checkpoint what the checkpoint says about its model
   */
  public record Resolved(TrainConfig config, ArtifactSpec checkpoint) {}

  /**
   * @param checkpoint the checkpoint the job starts from
   * @param configFile {@code --config}, if given
   * @param overrides {@code --set} keys and other flags, in order
   * @param recordedRunConfig start from the run config recorded beside the checkpoint (a step folder's
   *     {@code config.json}: its lengths and batch), as {@code eval} and {@code export} do
   * @throws IllegalArgumentException on a contradiction, or when neither the checkpoint nor the
   *     flags give the model
   */
  public static Resolved resolve(Path checkpoint, Optional<Path> configFile, Map<String, String> overrides,
      boolean recordedRunConfig) throws IOException {
    checkNotNull(checkpoint, "checkpoint");
    checkNotNull(configFile, "configFile");
    checkNotNull(overrides, "overrides");
    if (!Files.exists(checkpoint) && !Files.exists(checkpoint.resolveSibling(checkpoint.getFileName() + ".index"))) {
      throw new NoSuchFileException(checkpoint.toString(), null, "checkpoint not found");
    }
    ArtifactSpec found = ArtifactSpec.of(checkpoint);
    Optional<JsonNode> user = Optional.empty();
    if (configFile.isPresent()) {
      user = Optional.of(readJson(configFile.get()));
    }
    TrainConfig base = TrainConfig.defaults();
    boolean recordedBase = false;
    Path dir = Files.isDirectory(checkpoint) ? checkpoint : checkpoint.toAbsolutePath().getParent();
    Path recorded = dir.resolve(ArtifactSpec.LEGACY_CONFIG_FILE);
    if (recordedRunConfig && Files.isRegularFile(recorded)) {
      base = TrainConfig.load(recorded);
      recordedBase = true;
    }
    boolean userGivesModel = user.map(u -> u.has("model") || u.has("moe")).orElse(false)
        || overrides.keySet().stream().anyMatch(k -> k.startsWith("model.") || k.startsWith("moe."));
    if (found.spec().isEmpty() && !userGivesModel && !recordedBase) {
      throw new IllegalArgumentException(checkpoint + ": the checkpoint records no model spec ("
          + found.reason() + "); give the model with --config FILE or --set model.preset=NAME / model.vit.…"
          + " (docs/train-config.md)");
    }
    SpecConfig spec = found.spec().map(SpecConfig::of).orElse(base.specConfig());
    TrainConfig config;
    try {
      config = TrainConfig.layered(base, spec, user, overrides);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(configFile.map(f -> f + ": ").orElse("") + e.getMessage(), e);
    }
    List<SpecFacts.Contradiction> contradictions = SpecFacts.compare(found.facts(), SpecFacts.of(config.modelSpec()));
    if (!contradictions.isEmpty()) {
      List<String> lines = new ArrayList<>();
      for (SpecFacts.Contradiction c : contradictions) {
        lines.add(c.key() + ": the checkpoint has " + c.checkpoint() + " (from its " + found.from() + "), "
            + flag(c.key(), configFile, overrides) + " asks for " + c.config());
      }
      throw new IllegalArgumentException(checkpoint + ": the config contradicts the checkpoint's tensors — "
          + String.join("; ", lines) + ". Drop the override (the checkpoint gives the model), or convert the"
          + " checkpoint first (upcycle convert) to change experts or MoE layers");
    }
    return new Resolved(config, found);
  }

  /** The flag that set a key: the {@code --set} that names it or a section above it, else the config file. */
  static String flag(String key, Optional<Path> configFile, Map<String, String> overrides) {
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      String k = e.getKey();
      boolean layout = k.endsWith("_layout") && key.equals(k.replace("_layout", "_layers"));
      boolean preset = k.equals("model.preset") && key.startsWith("model");
      if (key.equals(k) || key.startsWith(k + ".") || layout || preset) {
        return "--set " + k + "=" + e.getValue();
      }
    }
    return configFile.map(f -> "--config " + f).orElse("the run's recorded config");
  }

  private static JsonNode readJson(Path file) throws IOException {
    try {
      return ConfigJson.MAPPER.readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
    }
  }
}
