package dev.upcycle.savedmodels.server;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.savedmodels.ServingVersions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Polls a model base path as TF Serving's {@code FileSystemStoragePathSource} does with its default
 * version policy (latest, one version): the children whose names are numbers are the versions
 * ({@link ServingVersions#versions}: {@code AtomicFolder} stages and other names are skipped), and
 * the highest one is served ({@link ModelVersions#serve}) — here the highest <em>complete</em> one:
 * {@link VersionFolder#incomplete} must find nothing missing and, after the first poll, its files
 * must be unchanged since the previous poll, so a folder being copied is loaded once the copy is
 * done. A version that fails to load is not tried again until its files change; the next lower
 * complete version is served instead. When every version is gone the loaded one keeps serving (TF
 * Serving's {@code AvailabilityPreservingPolicy}). Each condition is logged once, when it appears.
 */
public final class VersionWatcher implements AutoCloseable {

  private final Path base;
  private final ModelVersions versions;
  private final int pollSeconds;
  private final Consumer<String> log;
  /** The fingerprint of each version folder at the previous poll. */
  private final Map<Long, List<String>> seen = new HashMap<>();
  /** The fingerprint a version had when it failed to load. */
  private final Map<Long, List<String>> failed = new HashMap<>();
  private Set<String> notes = new HashSet<>();
  private boolean first = true;
  private ScheduledExecutorService timer;

  public VersionWatcher(Path base, ModelVersions versions, int pollSeconds, Consumer<String> log) {
    checkArgument(pollSeconds >= 0, "pollSeconds must be >= 0, got %s", pollSeconds);
    this.base = checkNotNull(base, "base");
    this.versions = checkNotNull(versions, "versions");
    this.pollSeconds = pollSeconds;
    this.log = checkNotNull(log, "log");
  }

  /** Looks at the base path once and serves what it finds (synchronously). */
  public synchronized void poll() {
    Set<String> now = new HashSet<>();
    SortedMap<Long, Path> found;
    try {
      found = ServingVersions.versions(base);
    } catch (IOException e) {
      note(now, "warning: cannot list the model base path " + base + ": " + e.getMessage());
      notes = now;
      return;
    }
    seen.keySet().retainAll(found.keySet());
    failed.keySet().retainAll(found.keySet());
    List<Long> descending = new ArrayList<>(found.keySet());
    Collections.reverse(descending);
    boolean serving = false;
    for (long v : descending) {
      Path dir = found.get(v);
      List<String> fingerprint = VersionFolder.fingerprint(dir);
      boolean stable = first || fingerprint.equals(seen.get(v));
      seen.put(v, fingerprint);
      Optional<String> missing = VersionFolder.incomplete(dir);
      if (missing.isPresent()) {
        note(now, "version " + v + " of model " + versions.name() + " is not complete yet, not loaded: "
            + missing.get());
        continue;
      }
      if (!stable) {
        note(now, "version " + v + " of model " + versions.name() + " in " + dir
            + " is still changing; it is loaded once its files stay unchanged for one poll");
        continue;
      }
      if (fingerprint.equals(failed.get(v))) {
        continue;
      }
      if (versions.serve(v, dir)) {
        failed.remove(v);
        serving = true;
        break;
      }
      failed.put(v, fingerprint);
    }
    if (!serving && descending.isEmpty()) {
      note(now, "warning: No versions of servable " + versions.name() + " found under base path " + base
          + ". Did you forget to name your leaf directory as a number (eg. '/1/')?"
          + (versions.loaded().isEmpty() ? "" : " (still serving " + versions.loaded().keySet() + ")"));
    }
    notes = now;
    first = false;
  }

  /** Logs {@code line} unless the previous poll logged it too. */
  private void note(Set<String> now, String line) {
    now.add(line);
    if (!notes.contains(line)) {
      log.accept(line);
    }
  }

  /** Polls every {@code pollSeconds} from now on in a background thread (never when it is 0). */
  public synchronized void start() {
    if (pollSeconds == 0 || timer != null) {
      return;
    }
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "upcycle-serve-poll");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(() -> {
      try {
        poll();
      } catch (RuntimeException e) {
        log.accept("error: polling " + base + ": " + e);
      }
    }, pollSeconds, pollSeconds, TimeUnit.SECONDS);
  }

  /** Stops polling and waits for a poll in progress (a load) to finish. */
  @Override
  public void close() {
    ScheduledExecutorService t;
    synchronized (this) {
      t = timer;
      timer = null;
    }
    if (t != null) {
      t.shutdown();
      try {
        t.awaitTermination(1, TimeUnit.HOURS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
