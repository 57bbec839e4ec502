package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link CheckpointWriter} that keeps what it is given in memory, in write order: the output side
 * of an in-memory upcycle. {@link #tensors()} is available after {@link #commit}; closing without
 * commit discards everything. Expert tiles ({@link #writeRepeated}) are built whole.
 */
public final class InMemoryCheckpointWriter implements CheckpointWriter {

  private final Map<String, RawTensor> written = new LinkedHashMap<>();
  private boolean committed;
  private boolean closed;

  @Override
  public void write(RawTensor tensor) {
    checkNotNull(tensor, "tensor");
    checkState(!committed && !closed, "tensor %s written after commit or close", tensor.name());
    checkArgument(!written.containsKey(tensor.name()), "tensor %s is written twice", tensor.name());
    written.put(tensor.name(), tensor);
  }

  @Override
  public void commit() {
    checkState(!closed, "commit after close");
    committed = true;
  }

  /** The tensors written, by name in write order; only after {@link #commit}. */
  public Map<String, RawTensor> tensors() {
    checkState(committed, "the in-memory checkpoint was not committed");
    return Collections.unmodifiableMap(written);
  }

  @Override
  public void close() {
    closed = true;
    if (!committed) {
      written.clear();
    }
  }
}
