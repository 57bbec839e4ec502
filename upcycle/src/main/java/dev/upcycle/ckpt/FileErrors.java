package dev.upcycle.ckpt;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What went wrong when a file could not be opened, in words: the JDK's {@link FileSystemException}s
 * carry only the path as their message ({@code /ckpt/checkpoint}), which says nothing to a user.
 */
public final class FileErrors {

  private FileErrors() {}

  /** {@code permission denied}, {@code not found}, the OS's reason ({@code Too many levels of symbolic links}). */
  public static String reason(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "not found";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /** {@code FILE: [tensor 'T': ]cannot be read (REASON)}. */
  public static CheckpointFormatException cannotRead(Path file, String tensor, IOException e) {
    if (e instanceof CheckpointFormatException c) {
      return c;
    }
    return new CheckpointFormatException(file, tensor, "cannot be read (" + reason(e) + ")", e);
  }
}
