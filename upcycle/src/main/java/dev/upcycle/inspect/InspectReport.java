package dev.upcycle.inspect;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.hf.HfCanonicalReader;
import dev.upcycle.ckpt.names.NameMap;
import dev.upcycle.model.config.SpecConfig;
import dev.upcycle.provenance.ArtifactSpec;
import dev.upcycle.provenance.Provenance;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What {@code upcycle inspect} shows about a checkpoint: format and naming, the architecture, and
 * every tensor under its canonical name with dtype, shape and bytes, plus totals; names the naming
 * dropped or could not map, Orbax placeholders and missing data shards are listed too. It needs
 * only the index: a TF bundle whose data shards are missing is listed, and {@link #readable()}
 * is false. {@link #format()} gives text, {@link #toJson()} JSON.
 */
public record InspectReport(CheckpointFormats.Detected detected, Architecture architecture, List<Entry> tensors,
    long totalElements, long totalBytes, ArtifactSpec spec) {

  /** One tensor; {@code stored} is its name in the file when the format's differs (Hugging Face), else null. Bytes are -1 for strings. */
  public record Entry(String name, String dtype, long[] shape, long elements, long bytes, String stored) {
    public Entry {
      shape = shape.clone();
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public InspectReport {
    checkNotNull(detected, "detected");
    checkNotNull(architecture, "architecture");
    checkNotNull(spec, "spec");
    tensors = List.copyOf(tensors);
  }

  /** Opens {@code path} (see {@link CheckpointFormats#list}) and describes it; reads no tensor data. */
  public static InspectReport of(Path path, Optional<NameMap> userMap) throws IOException {
    try (RenamingReader reader = CheckpointFormats.list(path, userMap)) {
      List<TensorInfo> infos = reader.tensors();
      List<Entry> entries = new java.util.ArrayList<>();
      for (TensorInfo t : infos) {
        String stored = reader.inner() instanceof HfCanonicalReader hf ? hf.storedName(t.name()) : null;
        entries.add(new Entry(t.name(), t.dtype().numpyName(), t.shape(), t.numElements(), t.byteSize(), stored));
      }
      long elements = infos.stream().mapToLong(TensorInfo::numElements).sum();
      long bytes = infos.stream().mapToLong(t -> Math.max(0, t.byteSize())).sum();
      ArtifactSpec spec = ArtifactSpec.of(reader, path);
      return new InspectReport(CheckpointFormats.detected(reader), ArchitectureDetector.detect(infos), entries,
          elements, bytes, spec);
    }
  }

  /** True when every listed tensor's values can be read (see {@link CheckpointFormats.Detected#readable()}). */
  public boolean readable() {
    return detected.readable();
  }

  /** Human-readable text: header, architecture, one line per tensor, totals, excluded names. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    sb.append("source: ").append(detected.source()).append('\n');
    sb.append("format: ").append(detected.describe()).append('\n');
    sb.append("architecture: ").append(architecture.describe()).append('\n');
    sb.append("model spec: ").append(spec.describe()).append('\n');
    spec.provenance().ifPresent(p -> sb.append("provenance: ").append(chain(p)).append('\n'));
    int width = tensors.stream().mapToInt(e -> e.name().length()).max().orElse(10);
    for (Entry e : tensors) {
      sb.append(String.format(Locale.ROOT, "  %-" + width + "s  %-8s %-20s %14d bytes%s%n", e.name(), e.dtype(),
          Arrays.toString(e.shape()), e.bytes(), e.stored() == null ? "" : "  <- " + e.stored()));
    }
    sb.append(String.format(Locale.ROOT, "total: %d tensors, %d elements, %d bytes (%.1f MiB)%n", tensors.size(),
        totalElements, totalBytes, totalBytes / 1048576.0));
    detected.dropped().forEach(n -> sb.append("  dropped by naming: ").append(n).append('\n'));
    detected.unmapped().forEach(n -> sb.append("  unmapped: ").append(n).append('\n'));
    detected.placeholders().forEach((n, ref) -> sb.append("  Orbax placeholder (values not readable): ").append(n)
        .append(" = ").append(ref).append('\n'));
    if (!detected.unusedSlots().isEmpty()) {
      sb.append("  not listed: ").append(detected.unusedSlots().size())
          .append(" unused Adafactor slots of T5X's layout ([1] zeros), e.g. ").append(detected.unusedSlots().get(0))
          .append('\n');
    }
    detected.missingShards().forEach(f -> sb.append("  missing data shard: ").append(f).append('\n'));
    return sb.toString();
  }

  /** {@code convert 2026-… (sparse-upcycling-tfjava 0.1.0) from /src [t5x] <- train … <- …}: the record and its parents. */
  static String chain(Provenance p) {
    StringBuilder sb = new StringBuilder();
    for (Provenance q = p; q != null; q = q.parent()) {
      if (q != p) {
        sb.append(" <- ");
      }
      sb.append(q.kind().jsonName()).append(' ').append(q.created()).append(" (").append(q.tool().name()).append(' ')
          .append(q.tool().version()).append(')');
      if (q.source() != null) {
        sb.append(" from ").append(q.source().path()).append(" [").append(q.source().format()).append(']');
      }
    }
    return sb.toString();
  }

  /** The report as a JSON object. */
  public ObjectNode toJsonTree() {
    ObjectNode root = JSON.createObjectNode();
    root.put("source", detected.source().toString());
    root.put("format", detected.format());
    root.put("naming", detected.naming());
    ObjectNode arch = root.putObject("architecture");
    arch.put("kind", architecture.kind().name().toLowerCase(Locale.ROOT));
    arch.put("summary", architecture.describe());
    arch.put("d_model", architecture.dModel());
    arch.put("d_ff", architecture.dFf());
    arch.put("heads", architecture.heads());
    arch.put("inner_dim", architecture.innerDim());
    arch.put("encoder_layers", architecture.encoderLayers());
    arch.put("decoder_layers", architecture.decoderLayers());
    arch.put("vocab", architecture.vocab());
    arch.put("patch", architecture.patch());
    arch.put("image_size", architecture.imageSize());
    arch.put("channels", architecture.channels());
    arch.put("classes", architecture.classes());
    arch.set("moe_layers", JSON.valueToTree(architecture.moeLayers()));
    ObjectNode model = root.putObject("model_spec");
    model.put("from", spec.spec().isPresent() ? spec.from() : null);
    model.set("spec", spec.spec().map(s -> (com.fasterxml.jackson.databind.JsonNode) SpecConfig.of(s).toTree())
        .orElse(null));
    model.put("reason", spec.reason().isEmpty() ? null : spec.reason());
    model.set("facts", JSON.valueToTree(spec.facts()));
    root.set("provenance", spec.provenance().map(p -> {
      try {
        return JSON.readTree(p.toJson());
      } catch (IOException e) {
        throw new IllegalStateException("cannot re-read a provenance record", e);
      }
    }).orElse(null));
    ArrayNode list = root.putArray("tensors");
    for (Entry e : tensors) {
      ObjectNode n = list.addObject();
      n.put("name", e.name());
      n.put("dtype", e.dtype());
      ArrayNode shape = n.putArray("shape");
      Arrays.stream(e.shape()).forEach(shape::add);
      n.put("elements", e.elements());
      n.put("bytes", e.bytes());
      if (e.stored() != null) {
        n.put("stored_name", e.stored());
      }
    }
    ObjectNode totals = root.putObject("totals");
    totals.put("tensors", tensors.size());
    totals.put("elements", totalElements);
    totals.put("bytes", totalBytes);
    root.set("dropped", JSON.valueToTree(detected.dropped()));
    root.set("unmapped", JSON.valueToTree(detected.unmapped()));
    root.set("placeholders", JSON.valueToTree(detected.placeholders()));
    root.set("unused_adafactor_slots", JSON.valueToTree(detected.unusedSlots()));
    ArrayNode missing = root.putArray("missing_shards");
    detected.missingShards().forEach(f -> missing.add(f.toString()));
    root.put("readable", readable());
    return root;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(toJsonTree());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the inspect report as JSON", e);
    }
  }
}
