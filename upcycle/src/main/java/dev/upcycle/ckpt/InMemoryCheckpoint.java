package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint held in memory: named {@link RawTensor}s (e.g. the variables of a model in a TF
 * session) offered through the {@link CheckpointReader} interface, so that the plan and its
 * executor run over them exactly as over a checkpoint on disk. Names are taken as they are (give
 * canonical names). Closing does nothing; the tensors stay the caller's.
 */
public final class InMemoryCheckpoint implements CheckpointReader {

  /** The {@link #format()} of every in-memory checkpoint. */
  public static final String FORMAT = "in-memory";

  private final Path source;
  private final Map<String, RawTensor> tensors;
  private final List<TensorInfo> infos;

  /**
   * @param label what the tensors are ("dense model"), used as {@link #source()} in messages
   * @throws IllegalArgumentException when two tensors share a name, or a tensor holds strings
   */
  public InMemoryCheckpoint(String label, Collection<RawTensor> tensors) {
    checkNotNull(label, "label");
    checkNotNull(tensors, "tensors of %s", label);
    this.source = Path.of(FORMAT + ":" + label);
    Map<String, RawTensor> byName = new TreeMap<>();
    for (RawTensor t : tensors) {
      checkNotNull(t, "a tensor of %s", label);
      checkArgument(t.info().dtype() != DType.STRING, "%s: tensor %s holds strings; only fixed-size types are held",
          label, t.name());
      RawTensor before = byName.put(t.name(), t);
      checkArgument(before == null, "%s: two tensors named %s (%s and %s)", label, t.name(), before == null ? null
          : before.info(), t.info());
    }
    this.tensors = byName;
    this.infos = byName.values().stream().map(RawTensor::info).toList();
  }

  @Override
  public Path source() {
    return source;
  }

  @Override
  public String format() {
    return FORMAT;
  }

  /** Every tensor, sorted by name. */
  @Override
  public List<TensorInfo> tensors() {
    return infos;
  }

  @Override
  public RawTensor read(String name) throws IOException {
    checkNotNull(name, "name");
    RawTensor t = tensors.get(name);
    if (t == null) {
      throw new CheckpointFormatException(source, name, "no such tensor among the " + tensors.size() + " held");
    }
    return t;
  }

  @Override
  public void close() {}

  @Override
  public String toString() {
    return "InMemoryCheckpoint[" + source + ", " + tensors.size() + " tensors]";
  }
}
