package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
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
 * and fsyncs the parent. {@link #close} without a commit removes the stage, so an error leaves
 * nothing; a process killed outright leaves its stage behind, and the next stage for the same
 * target removes every stage whose process is gone. Readers skip stages ({@link #isStage}).
 *
 * <p>Folders get the umask's mode. With {@code overwrite}, an existing target is moved aside
 * ({@code .<name>.old-<pid>-<random>}), the stage moved into place, then the old one deleted; if
 * the second move fails the old folder is put back.
 *
 * <pre>{@code
 * try (AtomicFolder out = AtomicFolder.stage(target, false)) {
 *   write(out.path());
 *   out.commit();
 * }
 * }</pre>
 */
public final class AtomicFolder implements AutoCloseable {

  private static final Pattern STAGE = Pattern.compile("\\.(.+)\\.(stage|old)-(\\d+)-[0-9a-f]{12}");

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
   * Makes the parent folders and a fresh stage for {@code target}, after removing stale stages of
   * ended processes. Without {@code overwrite} an existing target is a
   * {@link FileAlreadyExistsException} naming it, and nothing is made.
   */
  public static AtomicFolder stage(Path target, boolean overwrite) throws IOException {
    checkNotNull(target, "target");
    Path t = target.toAbsolutePath().normalize();
    checkArgument(t.getParent() != null && t.getFileName() != null, "output %s must be a folder below the root",
        target);
    refuseExisting(t, overwrite);
    Files.createDirectories(t.getParent());
    removeStale(t);
    Path stage = Files.createDirectory(t.resolveSibling(siblingName(t, "stage")));
    return new AtomicFolder(t, stage, overwrite);
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
    if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      refuseExisting(target, overwrite);
      Path old = target.resolveSibling(siblingName(target, "old"));
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      try {
        Files.move(stage, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
        throw e;
      }
      committed = true;
      Folders.deleteTree(old);
    } else {
      Files.move(stage, target, StandardCopyOption.ATOMIC_MOVE);
      committed = true;
    }
    syncDirectory(target.getParent());
    return target;
  }

  /** Removes the stage unless it was committed. */
  @Override
  public void close() throws IOException {
    if (!committed) {
      Folders.deleteTree(stage);
    }
  }

  /** True for a stage or set-aside folder of this class (readers listing a parent skip these). */
  public static boolean isStage(Path p) {
    return p.getFileName() != null && STAGE.matcher(p.getFileName().toString()).matches();
  }

  /** Removes the stages and set-aside folders of {@code target} whose process has ended; returns how many. */
  public static int removeStale(Path target) throws IOException {
    Path parent = target.toAbsolutePath().normalize().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      return 0;
    }
    String name = target.getFileName().toString();
    List<Path> stale = new ArrayList<>();
    try (Stream<Path> siblings = Files.list(parent)) {
      for (Path p : (Iterable<Path>) siblings::iterator) {
        Matcher m = STAGE.matcher(p.getFileName().toString());
        if (!m.matches() || !m.group(1).equals(name) || !Files.isDirectory(p)) {
          continue;
        }
        long pid = Long.parseLong(m.group(3));
        if (pid != ProcessHandle.current().pid() && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          stale.add(p);
        }
      }
    }
    for (Path p : stale) {
      Folders.deleteTree(p);
    }
    return stale.size();
  }

  /** Fsyncs every regular file and folder under {@code root}, deepest first, then {@code root}. */
  public static void syncTree(Path root) throws IOException {
    List<Path> all = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.forEach(all::add);
    }
    for (int i = all.size() - 1; i >= 0; i--) {
      Path p = all.get(i);
      if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
          ch.force(true);
        }
      } else if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        syncDirectory(p);
      }
    }
  }

  private static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems refuse to open or fsync a directory; the rename is still atomic there
    }
  }

  private static void refuseExisting(Path target, boolean overwrite) throws FileAlreadyExistsException {
    if (!overwrite && Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(target.toString(), null,
          "output folder already exists; pass --overwrite to replace it and everything in it");
    }
  }

  private static String siblingName(Path target, String kind) {
    return "." + target.getFileName() + "." + kind + "-" + ProcessHandle.current().pid() + "-" + Folders.randomSuffix();
  }
}
