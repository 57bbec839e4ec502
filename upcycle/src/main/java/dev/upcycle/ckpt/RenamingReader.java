package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.names.NameMap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A view of another reader under canonical names: each stored name goes through a {@link NameMap};
 * mapped names are listed under their new name and read lazily from the underlying reader (no
 * copying), dropped and unmapped names are kept out of {@link #tensors()} and reported by
 * {@link #dropped()} and {@link #unmapped()}. When two stored names map to the same canonical
 * name both are listed (so a plan check reports the duplicate) and reading that name fails.
 * Closing closes the underlying reader.
 */
public final class RenamingReader implements CheckpointReader {

  /** A stored tensor the map dropped or did not match, with the rule that dropped it (or null). */
  public record Excluded(TensorInfo stored, String rule) {}

  private final CheckpointReader inner;
  private final NameMap map;
  private final String naming;
  private final List<TensorInfo> tensors;
  private final Map<String, List<String>> storedByCanonical;
  private final List<Excluded> dropped;
  private final List<Excluded> unmapped;

  /**
   * @param naming a short label of the naming the map undoes ("mesh-tf", "t5x", "canonical", ...)
   */
  public RenamingReader(CheckpointReader inner, NameMap map, String naming) {
    this.inner = checkNotNull(inner, "inner reader");
    this.map = checkNotNull(map, "name map");
    this.naming = checkNotNull(naming, "naming");
    List<TensorInfo> list = new ArrayList<>();
    Map<String, List<String>> byCanonical = new HashMap<>();
    List<Excluded> drops = new ArrayList<>();
    List<Excluded> misses = new ArrayList<>();
    for (TensorInfo t : inner.tensors()) {
      NameMap.Outcome o = map.resolve(t.name());
      switch (o.kind()) {
        case MAPPED -> {
          list.add(t.withName(o.target()));
          byCanonical.computeIfAbsent(o.target(), k -> new ArrayList<>()).add(t.name());
        }
        case DROPPED -> drops.add(new Excluded(t, o.rule().toString()));
        case UNMAPPED -> misses.add(new Excluded(t, null));
      }
    }
    list.sort(Comparator.comparing(TensorInfo::name));
    this.tensors = List.copyOf(list);
    this.storedByCanonical = new LinkedHashMap<>(byCanonical);
    this.dropped = List.copyOf(drops);
    this.unmapped = List.copyOf(misses);
  }

  /** The reader underneath (stored names). */
  public CheckpointReader inner() {
    return inner;
  }

  /** The label of the naming the map undoes. */
  public String naming() {
    return naming;
  }

  public NameMap nameMap() {
    return map;
  }

  @Override
  public Path source() {
    return inner.source();
  }

  @Override
  public String format() {
    return inner.format();
  }

  /** Canonical names, sorted; a name reached from two stored names appears twice. */
  @Override
  public List<TensorInfo> tensors() {
    return tensors;
  }

  /** Stored tensors a DROP rule of the map removed. */
  public List<Excluded> dropped() {
    return dropped;
  }

  /** Stored tensors no rule of the map matched. */
  public List<Excluded> unmapped() {
    return unmapped;
  }

  /** The stored name behind a canonical name. */
  public String storedName(String canonical) throws IOException {
    List<String> stored = storedByCanonical.get(canonical);
    if (stored == null) {
      throw new CheckpointFormatException(inner.source(), canonical,
          "no stored tensor maps to this canonical name under " + map.rules().size() + " name-map rules");
    }
    if (stored.size() > 1) {
      throw new CheckpointFormatException(inner.source(), canonical,
          "ambiguous: the stored tensors " + stored + " all map to it");
    }
    return stored.get(0);
  }

  @Override
  public RawTensor read(String canonical) throws IOException {
    checkNotNull(canonical, "name");
    return inner.read(storedName(canonical)).withName(canonical);
  }

  @Override
  public void close() throws IOException {
    inner.close();
  }

  @Override
  public String toString() {
    return "RenamingReader[" + inner + ", " + tensors.size() + " mapped, " + dropped.size() + " dropped, "
        + unmapped.size() + " unmapped]";
  }
}
