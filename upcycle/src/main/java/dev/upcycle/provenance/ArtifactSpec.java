package dev.upcycle.provenance;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.hf.HfCanonicalReader;
import dev.upcycle.inspect.Architecture;
import dev.upcycle.inspect.SpecDetector;
import dev.upcycle.inspect.SpecFacts;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.config.ConfigJson;
import dev.upcycle.model.config.SpecConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * The model spec of a checkpoint, from the best place there is: its provenance record, else the
 * {@code config.json} of a training step folder written before provenance records existed, else a
 * Hugging Face folder's {@code config.json}, else its tensors (complete for T5 v1.1 and the decoder-only LM, see {@link SpecDetector}).
 *
 * @param spec the spec, when one of the three gives it
 * @param from where it came from: {@code provenance}, {@code config.json} or {@code tensors}
 * @param facts what fixes the checkpoint's tensors ({@link SpecFacts}): from the spec, else as far
 *     as the tensors tell
 * @param provenance the checkpoint's record, when it has one
 * @param reason why {@code spec} is empty
 */
public record ArtifactSpec(Optional<ModelSpec> spec, String from, SortedMap<String, String> facts,
    Optional<Provenance> provenance, String reason) {

  /** The legacy run-config file of a training step folder. */
  public static final String LEGACY_CONFIG_FILE = "config.json";

  /** Where a Hugging Face folder's spec comes from. */
  public static final String HF_CONFIG = "Hugging Face config.json";

  public ArtifactSpec {
    checkNotNull(spec, "spec");
    checkNotNull(facts, "facts");
    checkNotNull(provenance, "provenance");
  }

  /** Reads what {@code checkpoint} (folder or bundle prefix, any supported format) says about its model. */
  public static ArtifactSpec of(Path checkpoint) throws IOException {
    checkNotNull(checkpoint, "checkpoint");
    try (RenamingReader reader = CheckpointFormats.open(checkpoint, Optional.empty())) {
      return of(reader, checkpoint);
    }
  }

  /**
   * The same for a checkpoint already open ({@code artifact} is the path it was opened from, where
   * its provenance and legacy config.json are looked for): provenance, else a step folder's
   * config.json, else a Hugging Face folder's config.json, else the tensors.
   */
  public static ArtifactSpec of(RenamingReader reader, Path artifact) throws IOException {
    checkNotNull(reader, "reader");
    Optional<Provenance> p = Provenance.find(artifact);
    if (p.isPresent() && p.get().spec().isPresent()) {
      ModelSpec s = p.get().spec().get();
      return new ArtifactSpec(Optional.of(s), "provenance", SpecFacts.of(s), p, "");
    }
    Optional<ModelSpec> legacy = legacySpec(artifact);
    if (legacy.isPresent()) {
      return new ArtifactSpec(legacy, LEGACY_CONFIG_FILE, SpecFacts.of(legacy.get()), p, "");
    }
    if (reader.inner() instanceof HfCanonicalReader hf) {
      ModelSpec s = hf.config().spec();
      return new ArtifactSpec(Optional.of(s), HF_CONFIG, SpecFacts.of(s), p, "");
    }
    return fromTensors(reader.tensors(), p);
  }

  /** The spec in a training step folder's {@code config.json} (written before provenance records existed). */
  private static Optional<ModelSpec> legacySpec(Path artifact) throws IOException {
    Path dir = Files.isDirectory(artifact) ? artifact : artifact.toAbsolutePath().getParent();
    Path legacy = dir == null ? null : dir.resolve(LEGACY_CONFIG_FILE);
    if (legacy == null || !Files.isRegularFile(legacy)) {
      return Optional.empty();
    }
    JsonNode tree = ConfigJson.MAPPER.readTree(legacy.toFile());
    if (tree == null || !tree.has("model") || !tree.has("moe")) {
      return Optional.empty(); // e.g. a Hugging Face config.json
    }
    ObjectNode sections = ConfigJson.MAPPER.createObjectNode();
    sections.set("model", tree.get("model"));
    sections.set("moe", tree.get("moe"));
    try {
      return Optional.of(SpecConfig.fromTree(sections).spec());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(legacy + ": " + e.getMessage(), e);
    }
  }

  /** The spec the tensors give (no provenance consulted). */
  public static ArtifactSpec fromTensors(List<TensorInfo> tensors, Optional<Provenance> provenance) {
    SpecDetector.Detection d = SpecDetector.detect(tensors);
    SortedMap<String, String> facts = SpecFacts.of(d.architecture(), SpecDetector.relativeBuckets(tensors));
    if (d.config().isEmpty()) {
      return new ArtifactSpec(Optional.empty(), "tensors", facts, provenance, d.reason());
    }
    return new ArtifactSpec(Optional.of(withMoeLayers(d.config().get(), d.architecture())), "tensors", facts,
        provenance, "");
  }

  /**
   * The spec of an upcycled model: {@code dense}'s architecture with E experts on the given layers
   * and the paper's routers for it (PAPER.md: vision Expert Choice C = 2 with renormalised combine
   * weights; language Expert Choice C = 2 in the encoder and top-2 C = 1.25 in the decoder). The
   * router settings do not change a tensor; a training job may set others.
   */
  public static ModelSpec upcycled(ArchitectureConfig dense, int experts, SparseLayout encoder, SparseLayout decoder) {
    MoeConfig moe = dense instanceof VitConfig ? MoeConfig.paperVit(experts) : MoeConfig.paperT5(experts);
    return ModelSpec.sparse(dense, moe, encoder, decoder);
  }

  /** Where the spec came from and what it is, in one line. */
  public String describe() {
    return spec.isPresent() ? "from " + from + ": " + SpecFacts.describe(facts)
        : "not recorded (" + reason + "); the tensors say: " + SpecFacts.describe(facts);
  }

  private static ModelSpec withMoeLayers(ArchitectureConfig arch, Architecture a) {
    if (!a.isMoe()) {
      return ModelSpec.dense(arch);
    }
    String first = arch instanceof dev.upcycle.model.LmConfig ? "decoder" : "encoder";
    SparseLayout enc = layout(a.moeLayers().getOrDefault(first, new java.util.TreeMap<>()).keySet());
    SparseLayout dec = arch instanceof dev.upcycle.model.T5Config
        ? layout(a.moeLayers().getOrDefault("decoder", new java.util.TreeMap<>()).keySet())
        : SparseLayout.DENSE;
    int experts = a.moeLayers().values().stream().flatMap(m -> m.values().stream()).findFirst().orElseThrow();
    return upcycled(arch, experts, enc, dec);
  }

  private static SparseLayout layout(java.util.Set<Integer> layers) {
    return layers.isEmpty() ? SparseLayout.DENSE
        : SparseLayout.layers(((SortedSet<Integer>) new java.util.TreeSet<>(layers)).toArray(Integer[]::new));
  }
}
