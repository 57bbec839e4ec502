package dev.upcycle.ckpt;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A {@link CheckpointWriter} could not write a file (a full disk, say): the message names the
 * checkpoint, what was being written and the file, and the writer is unusable. The caller that
 * staged the output adds what became of the partial files ({@link #afterCleanUp}).
 */
public class OutputWriteException extends IOException {

  private static final long serialVersionUID = 1L;

  private final Path file;

  /**
   * @param checkpoint what was being written ({@code TF bundle /out/model.ckpt-9})
   * @param what the part ({@code tensor 'encoder/...'}, {@code the msgpack index})
   * @param file the file that could not be written
   */
  public OutputWriteException(String checkpoint, String what, Path file, IOException cause) {
    super("writing " + checkpoint + ": " + what + " could not be written to " + file + ": " + cause.getMessage()
        + " (" + cause.getClass().getSimpleName() + ")", cause);
    this.file = file;
  }

  private OutputWriteException(String message, Path file, Throwable cause) {
    super(message, cause);
    this.file = file;
  }

  /** The file that could not be written. */
  public Path file() {
    return file;
  }

  /**
   * This failure with what the clean-up of its stage did: the partial output removed (nothing at
   * {@code target}), or, when {@code stage} is still there, where it is left.
   */
  public OutputWriteException afterCleanUp(Path target, Path stage) {
    String tail = !java.nio.file.Files.exists(stage, java.nio.file.LinkOption.NOFOLLOW_LINKS)
        ? "; the partial output was removed, nothing was written to " + target
        : "; the partial output could not be removed: remove " + stage + " by hand, or let the next run for "
            + target + " remove it";
    OutputWriteException e = new OutputWriteException(getMessage() + tail, file, getCause());
    for (Throwable t : getSuppressed()) {
      e.addSuppressed(t);
    }
    return e;
  }
}
