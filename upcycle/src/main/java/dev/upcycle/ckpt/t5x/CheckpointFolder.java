package dev.upcycle.ckpt.t5x;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.FileErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The folder of one T5X checkpoint, and the rule for every file the reader opens in it (the msgpack
 * file, {@code .zarray} files, chunk files): resolved through symbolic links, it must still lie
 * inside the folder (itself resolved). A chunk that is a link to {@code ~/.ssh/id_rsa} is refused
 * naming the link and its target, as a {@code ../} kvstore path is.
 */
final class CheckpointFolder {

  private final Path dir;
  private final Path real;

  private CheckpointFolder(Path dir, Path real) {
    this.dir = dir;
    this.real = real;
  }

  /** {@code dir} (absolute, normalised) and its real path. */
  static CheckpointFolder of(Path dir) throws IOException {
    checkNotNull(dir, "dir");
    Path abs = dir.toAbsolutePath().normalize();
    try {
      return new CheckpointFolder(abs, abs.toRealPath());
    } catch (IOException e) {
      throw FileErrors.cannotRead(abs, null, e);
    }
  }

  /** The folder as given (absolute, normalised). */
  Path dir() {
    return dir;
  }

  /** True when {@code file} exists (a link counts, even a dangling one). */
  static boolean present(Path file) {
    return Files.exists(file, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * The real path of {@code file}, a present file the reader is about to open for {@code tensor}
   * (null: the msgpack file itself).
   *
   * @throws CheckpointFormatException when it cannot be resolved (a dangling or looping link,
   *     no permission), resolves outside the folder, or is not a regular file
   */
  Path resolve(Path file, String tensor) throws CheckpointFormatException {
    Path target;
    try {
      target = file.toRealPath();
    } catch (IOException e) {
      throw FileErrors.cannotRead(file, tensor, e);
    }
    if (!target.startsWith(real)) {
      throw new CheckpointFormatException(file, tensor, "links to " + target + ", outside the checkpoint folder "
          + dir + ": a checkpoint's files must lie inside its folder");
    }
    if (!Files.isRegularFile(target)) {
      throw new CheckpointFormatException(file, tensor, "is not a regular file");
    }
    return target;
  }

  /** {@link #resolve} for a folder inside the checkpoint folder (a zarr array folder). */
  Path resolveDir(Path folder, String tensor) throws CheckpointFormatException {
    Path target;
    try {
      target = folder.toRealPath();
    } catch (IOException e) {
      throw FileErrors.cannotRead(folder, tensor, e);
    }
    if (!target.startsWith(real) || target.equals(real)) {
      throw new CheckpointFormatException(folder, tensor, "links to " + target + ", outside the checkpoint folder "
          + dir + ": a checkpoint's files must lie inside its folder");
    }
    if (!Files.isDirectory(target)) {
      throw new CheckpointFormatException(folder, tensor, "is not a folder (a zarr array is a folder of chunk files)");
    }
    return target;
  }
}
