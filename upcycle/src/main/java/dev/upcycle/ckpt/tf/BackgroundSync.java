package dev.upcycle.ckpt.tf;

import static com.google.common.base.Preconditions.checkArgument;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Fsyncs a file being written on a thread of its own once every {@code everyBytes} written, so the
 * disk works while the writer goes on filling the page cache instead of all at once at the end.
 * On the development VM this took writing 3 GB + fsync from 7.0–8.7 s to 5.3–6.0 s. At most one
 * fsync runs at a time; bytes written meanwhile count towards the next one. A failure is rethrown
 * by the next {@link #wrote} or by {@link #await}. Every file is still fsynced before it is
 * published (by {@link dev.upcycle.ckpt.AtomicFolder#commit}): this only moves work earlier.
 */
final class BackgroundSync implements AutoCloseable {

  private final long everyBytes;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "fsync-behind");
    t.setDaemon(true);
    return t;
  });
  private long pending;
  private Future<?> running;

  BackgroundSync(long everyBytes) {
    checkArgument(everyBytes > 0, "everyBytes must be > 0, got %s", everyBytes);
    this.everyBytes = everyBytes;
  }

  /** Counts {@code bytes} just written to {@code file}; starts an fsync of it when enough have gathered. */
  void wrote(Path file, long bytes) throws IOException {
    pending += bytes;
    if (running != null) {
      if (!running.isDone()) {
        return;
      }
      await();
    }
    if (pending >= everyBytes) {
      pending = 0;
      running = thread.submit(() -> {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
          ch.force(false);
        }
        return null;
      });
    }
  }

  /** Waits for the running fsync, if any, and rethrows its failure. */
  void await() throws IOException {
    Future<?> f = running;
    running = null;
    if (f == null) {
      return;
    }
    try {
      f.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof IOException io ? io : new IOException("background fsync failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for a background fsync", e);
    }
  }

  /** Waits for the running fsync (ignoring its failure: the caller is handling one or has awaited) and stops the thread. */
  @Override
  public void close() {
    try {
      await();
    } catch (IOException ignored) {
      // reported through wrote/await when it mattered
    }
    thread.shutdown();
  }
}
