package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The one way this project publishes a folder (T5X's write-then-commit): a staging folder
 * {@code .<name>.stage-<pid>-<random>} is made beside the target, the writer fills it, and
 * {@link #commit} fsyncs every file and folder in it, renames it onto the target in one atomic move
 * and fsyncs the parent. {@link #close} without a commit removes the stage, so an error (a full
 * disk, a bad tensor) leaves nothing; a process killed outright leaves its stage behind, and the
 * next {@link #stage} for the same target removes every stage whose process is gone. Readers
 * listing a parent skip these hidden folders ({@link #isStage}).
 *
 * <p>Folders get the umask's mode (they are made with {@link Files#createDirectory}). With
 * {@code overwrite}, an existing target is moved aside ({@code .<name>.old-<pid>-<random>}), the
 * stage moved into place, then the old one renamed to {@code .<name>.trash-<pid>-<random>} and
 * deleted; if the second move fails the old folder is put back. A process killed between the two
 * moves leaves the target absent and its old folder complete: the next stage for the target puts
 * that folder back, so the target only ever holds the old or the new content. {@link #delete}
 * removes a published folder the same way (renamed aside, then deleted), so a reader never sees
 * one half deleted.
 *
 * <pre>{@code
 * try (AtomicFolder out = AtomicFolder.stage(target, false)) {
 *   write(out.path());
 *   out.commit();
 * }
 * }</pre>
 */
public final class AtomicFolder implements AutoCloseable {

  private static final String STAGE = "stage";
  private static final String OLD = "old";
  private static final String TRASH = "trash";
  private static final Pattern SIBLING = Pattern.compile(
      "\\.(.+)\\.(" + STAGE + "|" + OLD + "|" + TRASH + ")-(\\d+)-[0-9a-f]{12}");

  private final Path target;
  private final Path stage;
  private final boolean overwrite;
  private boolean committed;

  private AtomicFolder(Path target, Path stage, boolean overwrite) {
    this.target = target;
    this.stage = stage;
    this.overwrite = overwrite;
  }

  /**
   * Makes the parent folders and a fresh stage for {@code target}, after cleaning up what ended
   * processes left beside it ({@link #removeStale}). Without {@code overwrite} an existing target
   * is a {@link FileAlreadyExistsException} naming it, and nothing is made.
   */
  public static AtomicFolder stage(Path target, boolean overwrite) throws IOException {
    Path t = normalize(target);
    checkTarget(t, overwrite);
    Files.createDirectories(t.getParent());
    removeStale(t);
    checkTarget(t, overwrite); // an old folder put back by removeStale counts as existing
    Path stage = Files.createDirectory(t.resolveSibling(siblingName(t, STAGE)));
    return new AtomicFolder(t, stage, overwrite);
  }

  /**
   * Fails with a {@link FileAlreadyExistsException} naming {@code target} when it exists and
   * {@code overwrite} is off: callers check before long work, {@link #stage} and {@link #commit}
   * check again.
   */
  public static void checkTarget(Path target, boolean overwrite) throws FileAlreadyExistsException {
    checkNotNull(target, "target");
    if (!overwrite && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(target.toString(), null,
          "output folder already exists; pass --overwrite to replace it and everything in it");
    }
  }

  /** The folder to write into (the stage). */
  public Path path() {
    return stage;
  }

  /** Where the folder appears on {@link #commit}. */
  public Path target() {
    return target;
  }

  /** Fsyncs the stage's files and folders, renames it onto the target and fsyncs the parent; returns the target. */
  public Path commit() throws IOException {
    checkState(!committed, "%s is already committed", target);
    syncTree(stage);
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      checkTarget(target, overwrite); // it appeared while the stage was written
      Path old = target.resolveSibling(siblingName(target, OLD));
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      try {
        Files.move(stage, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
        throw e;
      }
      committed = true;
      syncDirectory(target.getParent());
      try {
        discard(old);
      } catch (IOException e) {
        // published already; the hidden old folder left behind is removed by a later stage beside it
      }
    } else {
      Files.move(stage, target, StandardCopyOption.ATOMIC_MOVE);
      committed = true;
      syncDirectory(target.getParent());
    }
    return target;
  }

  /** Removes the stage unless it was committed. */
  @Override
  public void close() throws IOException {
    if (!committed) {
      Folders.deleteTree(stage);
    }
  }

  /**
   * Deletes a published folder: renamed aside first (one atomic move), then deleted, so a kill
   * mid-delete leaves a hidden folder that the next stage beside it removes, never a partial
   * {@code folder}. Nothing happens when it does not exist.
   */
  public static void delete(Path folder) throws IOException {
    Path f = normalize(folder);
    if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      discard(f);
    }
  }

  /** True for a stage, set-aside or half-deleted folder of this class (readers listing a parent skip these). */
  public static boolean isStage(Path p) {
    return p.getFileName() != null && SIBLING.matcher(p.getFileName().toString()).matches();
  }

  /**
   * Cleans up beside {@code target} after ended processes: their stages and half-deleted folders
   * are removed; their set-aside old folder is put back when the target is missing (they were
   * killed in the middle of an overwrite), otherwise removed. Returns how many were handled.
   */
  public static int removeStale(Path target) throws IOException {
    Path t = normalize(target);
    return cleanUp(t.getParent(), t.getFileName().toString());
  }

  /** {@link #removeStale} for every target in {@code parent} (a folder of step folders, say). */
  public static int removeStaleIn(Path parent) throws IOException {
    checkNotNull(parent, "parent");
    return cleanUp(parent.toAbsolutePath().normalize(), null);
  }

  /** Fsyncs every regular file and folder under {@code root}, deepest first, then {@code root}. */
  public static void syncTree(Path root) throws IOException {
    List<Path> all = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.forEach(all::add);
    }
    for (int i = all.size() - 1; i >= 0; i--) {
      Path p = all.get(i);
      if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
          ch.force(true);
        }
      } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        syncDirectory(p);
      }
    }
  }

  /** Stale siblings of {@code name} in {@code parent} ({@code name} null: of every name). */
  private static int cleanUp(Path parent, String name) throws IOException {
    if (parent == null || !Files.isDirectory(parent)) {
      return 0;
    }
    record Stale(Path path, String target, String kind) {}
    List<Stale> stale = new ArrayList<>();
    try (Stream<Path> siblings = Files.list(parent)) {
      for (Path p : (Iterable<Path>) siblings::iterator) {
        Matcher m = SIBLING.matcher(p.getFileName().toString());
        if (!m.matches() || name != null && !m.group(1).equals(name) || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        long pid = Long.parseLong(m.group(3));
        if (pid != ProcessHandle.current().pid() && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          stale.add(new Stale(p, m.group(1), m.group(2)));
        }
      }
    }
    for (Stale s : stale) {
      Path target = parent.resolve(s.target());
      if (s.kind().equals(OLD) && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        Files.move(s.path(), target, StandardCopyOption.ATOMIC_MOVE); // complete: killed mid-overwrite
      } else {
        Folders.deleteTree(s.path());
      }
    }
    return stale.size();
  }

  /** Renames {@code folder} to a trash name beside it and deletes that. */
  private static void discard(Path folder) throws IOException {
    Path trash = folder.resolveSibling(siblingName(trashTarget(folder), TRASH));
    Files.move(folder, trash, StandardCopyOption.ATOMIC_MOVE);
    Folders.deleteTree(trash);
  }

  /** The target a folder belongs to: its own name, or the target's for a set-aside old folder. */
  private static Path trashTarget(Path folder) {
    Matcher m = SIBLING.matcher(folder.getFileName().toString());
    return m.matches() ? folder.resolveSibling(m.group(1)) : folder;
  }

  private static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems refuse to open or fsync a directory; the rename is still atomic there
    }
  }

  private static Path normalize(Path target) {
    checkNotNull(target, "target");
    Path t = target.toAbsolutePath().normalize();
    checkArgument(t.getParent() != null && t.getFileName() != null, "output %s must be a folder below the root",
        target);
    return t;
  }

  private static String siblingName(Path target, String kind) {
    return "." + target.getFileName() + "." + kind + "-" + ProcessHandle.current().pid() + "-" + Folders.randomSuffix();
  }
}
