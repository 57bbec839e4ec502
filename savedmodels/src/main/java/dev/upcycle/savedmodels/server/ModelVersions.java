package dev.upcycle.savedmodels.server;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.ServedModel;
import dev.upcycle.savedmodels.rest.TfCode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The loaded versions of one model and the state of every version seen, as TF Serving's manager
 * keeps them with its default {@code AvailabilityPreservingPolicy}: a new version is loaded while
 * the old one keeps serving, then the old one is unloaded — and closed only once the requests
 * holding it have finished (each request holds a {@link Handle}; the server holds one reference
 * of its own until the version is unloaded). The last loaded version is never unloaded for want
 * of a replacement. Thread-safe: requests acquire concurrently with loads.
 */
public final class ModelVersions implements AutoCloseable {

  /** Loads a version folder ({@link ServedModel#load} in the server). */
  @FunctionalInterface
  public interface Loader {
    ServedModel load(Path dir) throws IOException;
  }

  /** TF Serving's {@code ModelVersionStatus.State} names for the states a version passes through. */
  public enum State { LOADING, AVAILABLE, UNLOADING, END }

  /** The state of one version and the error that ended it ({@link TfCode#OK} and "" when none). */
  public record Status(State state, TfCode errorCode, String errorMessage) {
    static Status of(State s) {
      return new Status(s, TfCode.OK, "");
    }
  }

  /** A loaded version held by one request; closing it lets the version be unloaded. */
  public static final class Handle implements AutoCloseable {
    private final Loaded loaded;
    private boolean closed;

    private Handle(Loaded loaded) {
      this.loaded = loaded;
    }

    public long version() {
      return loaded.version;
    }

    public ServedModel model() {
      return loaded.model;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        loaded.release();
      }
    }
  }

  private final String name;
  private final Loader loader;
  private final Consumer<String> log;
  private final NavigableMap<Long, Loaded> loaded = new ConcurrentSkipListMap<>();
  private final Map<Long, Status> states = Collections.synchronizedMap(new TreeMap<>(Collections.reverseOrder()));

  public ModelVersions(String name, Loader loader, Consumer<String> log) {
    this.name = checkNotNull(name, "name");
    this.loader = checkNotNull(loader, "loader");
    this.log = checkNotNull(log, "log");
  }

  public String name() {
    return name;
  }

  /**
   * The latest loaded version ({@code version} empty) or version {@code version}, held until the
   * handle is closed.
   *
   * @throws RestError NOT_FOUND {@code Servable not found for request: Latest(NAME)} or
   *     {@code Specific(NAME, N)}, TF Serving's words, when it is not loaded
   */
  public Handle acquire(OptionalLong version) {
    while (true) {
      Map.Entry<Long, Loaded> latest = version.isPresent() ? null : loaded.lastEntry();
      Loaded l = version.isPresent() ? loaded.get(version.getAsLong()) : latest == null ? null : latest.getValue();
      if (l == null) {
        throw new RestError(TfCode.NOT_FOUND, "Servable not found for request: " + (version.isPresent()
            ? "Specific(" + name + ", " + version.getAsLong() + ")" : "Latest(" + name + ")"));
      }
      if (l.retain()) {
        return new Handle(l);
      }
      // unloaded between the lookup and the retain: look again
    }
  }

  /** The versions loaded now, ascending. */
  public SortedMap<Long, Path> loaded() {
    SortedMap<Long, Path> out = new TreeMap<>();
    loaded.forEach((v, l) -> out.put(v, l.model.dir()));
    return out;
  }

  /** The state of every version seen, highest first (as TF Serving's status lists them). */
  public SortedMap<Long, Status> states() {
    synchronized (states) {
      SortedMap<Long, Status> copy = new TreeMap<>(Collections.reverseOrder());
      copy.putAll(states);
      return copy;
    }
  }

  /**
   * Makes version {@code version} in {@code dir} the one served: loads it (the versions loaded
   * keep serving meanwhile), then unloads every other. Does nothing when it is loaded already.
   * Called by one thread at a time (the watcher).
   *
   * @return false when loading failed (logged, and the version's state is END with the error)
   */
  public boolean serve(long version, Path dir) {
    if (loaded.containsKey(version)) {
      return true;
    }
    states.put(version, Status.of(State.LOADING));
    long t0 = System.nanoTime();
    ServedModel model;
    try {
      model = loader.load(dir);
    } catch (IOException | RuntimeException e) {
      TfCode code = e instanceof RuntimeException r ? TfCode.of(r) : TfCode.NOT_FOUND;
      String message = String.valueOf(e.getMessage());
      states.put(version, new Status(State.END, code, message));
      log.accept("error: cannot load model " + name + " version " + version + " from " + dir + ": " + message);
      return false;
    }
    loaded.put(version, new Loaded(version, model));
    states.put(version, Status.of(State.AVAILABLE));
    log.accept(String.format("loaded model %s version %d from %s (%.1f s)%s", name, version, dir,
        (System.nanoTime() - t0) / 1e9, model.loadNote().map(n -> "; note: " + n).orElse("")));
    for (Long other : loaded.keySet()) {
      if (other != version) {
        unload(other);
      }
    }
    return true;
  }

  /** Stops serving {@code version}; it is closed when its last in-flight request finishes. */
  private void unload(long version) {
    Loaded l = loaded.remove(version);
    if (l != null) {
      states.put(version, Status.of(State.UNLOADING)); // logged when closed, after its in-flight requests
      l.release();
    }
  }

  /** Unloads every version (each closed once its in-flight requests finish). */
  @Override
  public void close() {
    for (Long v : loaded.keySet()) {
      unload(v);
    }
  }

  /** A loaded version: reference-counted, the server's own reference released by {@link #unload}. */
  private final class Loaded {
    final long version;
    final ServedModel model;
    private final AtomicInteger refs = new AtomicInteger(1);

    Loaded(long version, ServedModel model) {
      this.version = version;
      this.model = model;
    }

    /** Takes a reference unless the version was closed already. */
    boolean retain() {
      while (true) {
        int n = refs.get();
        if (n == 0) {
          return false;
        }
        if (refs.compareAndSet(n, n + 1)) {
          return true;
        }
      }
    }

    void release() {
      if (refs.decrementAndGet() == 0) {
        try {
          model.close();
          if (!loaded.containsKey(version)) { // not loaded again meanwhile
            states.put(version, Status.of(State.END));
          }
          log.accept("unloaded model " + name + " version " + version);
        } catch (RuntimeException e) {
          states.put(version, new Status(State.END, TfCode.INTERNAL, String.valueOf(e.getMessage())));
          log.accept("error: unloading model " + name + " version " + version + ": " + e.getMessage());
        }
      }
    }
  }
}
