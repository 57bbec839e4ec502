package dev.upcycle.plan;

import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.RawTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Reads the source tensors of a plan in order, one tensor ahead, on its own thread: while tensor i
 * is transformed and written, tensor i+1 is read and CRC-checked. At most two tensors are in
 * memory. Names may be null (rules without a source) and give null.
 */
final class ReadAhead implements AutoCloseable {

  private final CheckpointReader reader;
  private final List<String> names;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "convert-read-ahead");
    t.setDaemon(true);
    return t;
  });
  private Future<RawTensor> next;
  private int position;

  ReadAhead(CheckpointReader reader, List<String> names) {
    this.reader = reader;
    this.names = names;
    schedule();
  }

  private void schedule() {
    if (position < names.size()) {
      String name = names.get(position);
      next = name == null ? null : thread.submit(() -> {
        try {
          return reader.read(name);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  /** The next source tensor (null for a rule without source); errors are the reader's own. */
  RawTensor next() throws IOException {
    Future<RawTensor> current = next;
    position++;
    schedule();
    if (current == null) {
      return null;
    }
    try {
      return current.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading ahead", e);
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
