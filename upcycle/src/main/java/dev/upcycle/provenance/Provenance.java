package dev.upcycle.provenance;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.Folders;
import dev.upcycle.model.BuildInfo;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.config.ConfigJson;
import dev.upcycle.model.config.SpecConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What an artifact is and how it was made (Tribuo's model provenance, T5X's run folders): written
 * as {@code provenance.json} into every folder this project publishes, and read back by the next
 * step, which takes the model spec from it and records it as its {@link #parent}.
 *
 * <pre>{@code
 * {"format_version": 1, "kind": "convert", "created": "2026-12-01T21:00:00Z",
 *  "tool": {"name": "sparse-upcycling-tfjava", "version": "0.1.0", "tensorflow_java": "1.1.0",
 *           "tensorflow_runtime": "2.18.0"},
 *  "source": {"path": "/ckpts/t5_base/checkpoint_1000000", "format": "t5x", "digest_file": "checkpoint",
 *             "sha256": "…"},
 *  "options": {…the step's own settings…},
 *  "model": {"model": {"t5": {…}}, "moe": {"num_experts": 32, …}},
 *  "outputs": [{"path": "model.ckpt-0.index", "bytes": 12345}],
 *  "parent": {…the source's own provenance, when it had one…}}
 * }</pre>
 *
 * @param formatVersion {@link #FORMAT_VERSION}; a newer one is refused on read
 * @param kind the step that wrote the artifact
 * @param created when it was written (ISO-8601 instant)
 * @param tool the program and its versions
 * @param source what the step read, or null (a fresh training run, synthetic data)
 * @param options the step's settings (free-form per kind: conversion options, the train config, …)
 * @param model the full model spec of the artifact, or null for data outputs
 * @param outputs the files the step wrote, relative to the folder, with their sizes
 * @param parent the source's provenance, or null when it had none
 */
public record Provenance(
    int formatVersion,
    Kind kind,
    String created,
    Tool tool,
    Source source,
    JsonNode options,
    SpecConfig model,
    List<OutputFile> outputs,
    Provenance parent) {

  /** The file name inside a published folder. */
  public static final String FILE = "provenance.json";

  /** Where a SavedModel version folder keeps it (TF Serving's {@code assets.extra/}). */
  public static final String SAVED_MODEL_FILE = "assets.extra/" + FILE;

  /** The schema this code writes and the newest it reads. */
  public static final int FORMAT_VERSION = 1;

  /** The step that wrote an artifact. */
  public enum Kind {
    CONVERT, TRAIN, EXPORT, TOKENIZE, IMAGES;

    @com.fasterxml.jackson.annotation.JsonValue
    public String jsonName() {
      return name().toLowerCase(Locale.ROOT);
    }

    @com.fasterxml.jackson.annotation.JsonCreator
    public static Kind parse(String s) {
      for (Kind k : values()) {
        if (k.jsonName().equals(s)) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown provenance kind '" + s + "'; known: convert, train, export,"
          + " tokenize, images");
    }
  }

  /**
   * The program that wrote an artifact.
   *
   * @param name {@link BuildInfo#TOOL}
   * @param version the project version
   * @param tensorflowJava the TensorFlow Java version
   * @param tensorflowRuntime the TensorFlow runtime version
   */
  public record Tool(String name, String version, String tensorflowJava, String tensorflowRuntime) {

    /** This build (from {@link BuildInfo}). */
    public static Tool current() {
      return new Tool(BuildInfo.TOOL, BuildInfo.PROJECT_VERSION, BuildInfo.TENSORFLOW_JAVA_VERSION,
          BuildInfo.TENSORFLOW_RUNTIME_VERSION);
    }
  }

  /**
   * What a step read.
   *
   * @param path absolute path as given
   * @param format its format ({@code tf-bundle}, {@code t5x}, {@code saved-model}, {@code text}, …)
   * @param digestFile the file whose digest identifies it (a checkpoint's index or msgpack), relative to path
   * @param sha256 that file's SHA-256, lower-case hex
   */
  public record Source(String path, String format, String digestFile, String sha256) {

    public Source {
      checkNotNull(path, "source path");
      checkNotNull(format, "source format");
    }
  }

  /**
   * One file a step wrote.
   *
   * @param path relative to the published folder, {@code /}-separated
   * @param bytes its size
   */
  public record OutputFile(String path, long bytes) {}

  public Provenance {
    checkArgument(formatVersion >= 1, "provenance format_version must be >= 1, got %s", formatVersion);
    checkNotNull(kind, "provenance kind");
    checkNotNull(created, "provenance created");
    checkNotNull(tool, "provenance tool");
    options = options == null ? JsonNodeFactory.instance.objectNode() : options;
    outputs = outputs == null ? List.of() : List.copyOf(outputs);
  }

  /** A new record by this build, created now, with no outputs listed yet. */
  public static Provenance of(Kind kind, Source source, JsonNode options, ModelSpec spec, Provenance parent) {
    return new Provenance(FORMAT_VERSION, kind, Instant.now().toString(), Tool.current(), source, options,
        spec == null ? null : SpecConfig.of(spec), List.of(), parent);
  }

  /** The model spec, when the artifact is a model. */
  public Optional<ModelSpec> spec() {
    return Optional.ofNullable(model).map(SpecConfig::spec);
  }

  /** This record listing the regular files under {@code folder} (except itself) as its outputs. */
  public Provenance withOutputsOf(Path folder) throws IOException {
    List<OutputFile> files;
    try (var walk = Files.walk(folder)) {
      files = walk.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().equals(FILE))
          .sorted()
          .map(p -> new OutputFile(folder.relativize(p).toString().replace('\\', '/'), size(p)))
          .toList();
    }
    return new Provenance(formatVersion, kind, created, tool, source, options, model, files, parent);
  }

  /** This record with {@code options.<key>} set to {@code value} (the options are copied). */
  public Provenance withOption(String key, JsonNode value) {
    ObjectNode o = options.isObject() ? ((ObjectNode) options).deepCopy() : newOptions();
    o.set(key, value);
    return new Provenance(formatVersion, kind, created, tool, source, o, model, outputs, parent);
  }

  /** As indented JSON. */
  public byte[] toJson() {
    try {
      return ConfigJson.MAPPER.writeValueAsBytes(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a provenance record", e);
    }
  }

  /** Parses a record; {@code origin} names the file in errors. */
  public static Provenance parse(byte[] json, String origin) {
    JsonNode tree;
    try {
      tree = ConfigJson.MAPPER.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(origin + ": not valid JSON (" + e.getMessage() + ")", e);
    }
    checkArgument(tree != null && tree.isObject(), "%s: expected a JSON object", origin);
    JsonNode v = tree.get("format_version");
    checkArgument(v != null && v.canConvertToInt(),
        "%s: no format_version: it was written before provenance records were versioned (or by another tool)",
        origin);
    checkArgument(v.asInt() <= FORMAT_VERSION, "%s: provenance format_version %s is newer than this build reads (%s)",
        origin, v.asInt(), FORMAT_VERSION);
    try {
      return ConfigJson.MAPPER.treeToValue(tree, Provenance.class);
    } catch (IOException | IllegalArgumentException e) {
      Throwable c = e.getCause() != null ? e.getCause() : e;
      throw new IllegalArgumentException(origin + ": " + c.getMessage(), e);
    }
  }

  /** Writes {@code <folder>/provenance.json} whole (atomic small-file write). */
  public void writeTo(Path folder) throws IOException {
    Files.createDirectories(folder);
    Folders.writeAtomically(folder.resolve(FILE), toJson());
  }

  /**
   * The provenance of an artifact: {@code provenance.json} in the folder (a checkpoint or data
   * folder), its {@code assets.extra/} (a SavedModel version folder), or beside a file given
   * instead of a folder (a checkpoint prefix such as {@code .../model.ckpt-100}), or for a T5X
   * {@code checkpoint_<step>} folder in the folder above it (where {@code convert} puts it). Empty when there
   * is none; a file that is there but cannot be read is an error naming it.
   */
  public static Optional<Provenance> find(Path artifact) throws IOException {
    Path dir = Files.isDirectory(artifact) ? artifact : artifact.toAbsolutePath().getParent();
    if (dir == null) {
      return Optional.empty();
    }
    List<Path> candidates = new java.util.ArrayList<>(List.of(dir.resolve(FILE), dir.resolve(SAVED_MODEL_FILE)));
    if (dir.getFileName() != null && dir.getFileName().toString().matches("checkpoint_\\d+")
        && dir.getParent() != null) {
      candidates.add(dir.getParent().resolve(FILE));
    }
    for (Path candidate : candidates) {
      try {
        return Optional.of(parse(Files.readAllBytes(candidate), candidate.toString()));
      } catch (NoSuchFileException e) {
        // try the next place
      }
    }
    return Optional.empty();
  }

  /** An empty JSON object to fill as a record's {@code options}. */
  public static ObjectNode newOptions() {
    return JsonNodeFactory.instance.objectNode();
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -1;
    }
  }
}
