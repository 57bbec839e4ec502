package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face checkpoint seen under canonical names and shapes: wraps a reader of the stored
 * names (safetensors, Flax msgpack, or any other) and, by the {@link HfNameTable} of the model in
 * {@code config.json}, lists every tensor under its canonical name with its canonical shape and
 * reads it with the row's {@link HfTensorLayout} applied, one tensor at a time (dtype kept).
 *
 * <p>Opening checks the stored names against the table for the configured depth: every tensor the
 * model needs is there, every stored tensor is known (documented duplicates such as
 * {@code encoder.embed_tokens.weight} are dropped after a shape check), no stored name shows a
 * model our graph cannot hold (a ViT pooler, a T5 v1.0 MLP), each tensor is floating point and has
 * the rank its layout needs. All problems are reported together. Closing closes the stored reader.
 */
public final class HfCanonicalReader implements CheckpointReader {

  /** Names listed in full in an error before "... and N more". */
  private static final int LISTED = 12;

  private final CheckpointReader stored;
  private final HfConfig config;
  private final HfNameTable table;
  private final Map<String, HfNameTable.Entry> byCanonical;
  private final List<TensorInfo> tensors;
  private final List<String> dropped;

  private HfCanonicalReader(CheckpointReader stored, HfConfig config, HfNameTable table,
      Map<String, HfNameTable.Entry> byCanonical, List<TensorInfo> tensors, List<String> dropped) {
    this.stored = stored;
    this.config = config;
    this.table = table;
    this.byCanonical = byCanonical;
    this.tensors = tensors;
    this.dropped = dropped;
  }

  /** Opens {@code stored} as the model of {@code config}, the dialect told by its names ({@link HfDialect#of}). */
  public static HfCanonicalReader open(CheckpointReader stored, HfConfig config) throws CheckpointFormatException {
    checkNotNull(stored, "stored reader");
    return open(stored, config, HfDialect.of(stored.tensors().stream().map(TensorInfo::name).toList()));
  }

  /**
   * Opens {@code stored} as the model of {@code config}, names spelled in {@code dialect}.
   *
   * @throws CheckpointFormatException naming the file and every tensor that is missing, unknown,
   *     refused, not floating point or of the wrong rank
   */
  public static HfCanonicalReader open(CheckpointReader stored, HfConfig config, HfDialect dialect)
      throws CheckpointFormatException {
    checkNotNull(stored, "stored reader");
    checkNotNull(config, "config of %s", stored.source());
    checkNotNull(dialect, "dialect of %s", stored.source());
    HfNameTable table = config.table(dialect);
    Map<String, HfNameTable.Entry> byStored = new LinkedHashMap<>();
    for (HfNameTable.Entry e : table.entries(config.encoderLayers(), config.decoderLayers())) {
      byStored.put(e.stored(), e);
    }
    Map<String, TensorInfo> storedInfos = new TreeMap<>();
    for (TensorInfo t : stored.tensors()) {
      storedInfos.put(t.name(), t);
    }
    List<String> problems = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    List<String> dropped = new ArrayList<>();
    List<TensorInfo> canonical = new ArrayList<>();
    Map<String, HfNameTable.Entry> byCanonical = new LinkedHashMap<>();
    for (TensorInfo t : storedInfos.values()) {
      HfNameTable.Entry e = byStored.get(t.name());
      if (e != null) {
        String bad = check(t, e);
        if (bad != null) {
          problems.add(bad);
        } else {
          canonical.add(new TensorInfo(e.canonical(), t.dtype(), e.layout().canonicalShape(t.shape())));
          byCanonical.put(e.canonical(), e);
        }
        continue;
      }
      HfNameTable.Duplicate dup = table.duplicate(t.name());
      if (dup != null) {
        TensorInfo of = storedInfos.get(dup.of());
        if (of != null && (of.dtype() != t.dtype() || !Arrays.equals(of.shape(), t.shape()))) {
          problems.add("'" + t.name() + "' " + t + " should repeat '" + dup.of() + "' " + of);
        } else {
          dropped.add(t.name());
        }
        continue;
      }
      String refusal = table.refusal(t.name());
      if (refusal != null) {
        problems.add("'" + t.name() + "' is " + refusal);
      } else {
        unknown.add(t.name());
      }
    }
    if (!unknown.isEmpty()) {
      problems.add(unknown.size() + " tensor(s) the " + table.naming() + " table (" + dialect + " names) does not"
          + " know for " + depth(config) + ": " + listed(unknown));
    }
    List<String> missing = byStored.keySet().stream().filter(n -> !storedInfos.containsKey(n)).toList();
    if (!missing.isEmpty()) {
      problems.add(missing.size() + " tensor(s) a " + table.naming() + " model with " + depth(config) + " needs are"
          + " missing (" + dialect + " names): " + listed(missing));
    }
    if (!problems.isEmpty()) {
      throw new CheckpointFormatException(stored.source(), null, "not the " + table.naming() + " model of "
          + config.file() + ": " + String.join("; ", problems));
    }
    canonical.sort(Comparator.comparing(TensorInfo::name));
    return new HfCanonicalReader(stored, config, table, byCanonical, List.copyOf(canonical), List.copyOf(dropped));
  }

  /** Why a stored tensor cannot be read through {@code e}, or null. */
  private static String check(TensorInfo t, HfNameTable.Entry e) {
    if (!t.dtype().isFloating()) {
      return "'" + t.name() + "' holds " + t.dtype().numpyName() + "; weights must be float32, float16, bfloat16"
          + " or float64";
    }
    int rank = e.layout().rank();
    if (rank >= 0 && t.rank() != rank) {
      return "'" + t.name() + "' has shape " + Arrays.toString(t.shape()) + "; " + e.layout() + " to '"
          + e.canonical() + "' needs rank " + rank;
    }
    return null;
  }

  private static String depth(HfConfig config) {
    return config.decoderLayers() > 0
        ? config.encoderLayers() + " encoder and " + config.decoderLayers() + " decoder layers"
        : config.encoderLayers() + " layers";
  }

  private static String listed(List<String> names) {
    List<String> shown = names.subList(0, Math.min(LISTED, names.size()));
    String more = names.size() > LISTED ? " ... and " + (names.size() - LISTED) + " more" : "";
    return shown + more;
  }

  /** The reader of stored names underneath. */
  public CheckpointReader stored() {
    return stored;
  }

  public HfConfig config() {
    return config;
  }

  /** The table the names are resolved by. */
  public HfNameTable table() {
    return table;
  }

  /** The naming label: {@code hf-t5} or {@code hf-vit}. */
  public String naming() {
    return table.naming();
  }

  /** Stored tensors dropped as documented duplicates (e.g. {@code encoder.embed_tokens.weight}). */
  public List<String> dropped() {
    return dropped;
  }

  /** The stored name behind a canonical name. */
  public String storedName(String canonical) throws CheckpointFormatException {
    return entry(canonical).stored();
  }

  /** The layout transform applied to a canonical name's stored tensor. */
  public HfTensorLayout layout(String canonical) throws CheckpointFormatException {
    return entry(canonical).layout();
  }

  private HfNameTable.Entry entry(String canonical) throws CheckpointFormatException {
    checkNotNull(canonical, "name");
    HfNameTable.Entry e = byCanonical.get(canonical);
    if (e == null) {
      throw new CheckpointFormatException(stored.source(), canonical, "no such canonical tensor among the "
          + tensors.size() + " of this " + table.naming() + " checkpoint");
    }
    return e;
  }

  @Override
  public Path source() {
    return stored.source();
  }

  /** The stored format (e.g. the safetensors reader's). */
  @Override
  public String format() {
    return stored.format();
  }

  /** Canonical names and shapes, sorted by name; dtypes as stored. */
  @Override
  public List<TensorInfo> tensors() {
    return tensors;
  }

  @Override
  public RawTensor read(String canonical) throws IOException {
    HfNameTable.Entry e = entry(canonical);
    RawTensor raw = stored.read(e.stored());
    try {
      return e.layout().apply(raw, canonical);
    } catch (IllegalArgumentException ex) {
      throw new CheckpointFormatException(stored.source(), e.stored(), ex.getMessage(), ex);
    }
  }

  @Override
  public void close() throws IOException {
    stored.close();
  }

  @Override
  public String toString() {
    return "HfCanonicalReader[" + table.naming() + " " + table.dialect() + ", " + stored + ", " + tensors.size()
        + " tensors, " + dropped.size() + " dropped]";
  }
}
