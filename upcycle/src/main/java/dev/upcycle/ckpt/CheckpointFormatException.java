package dev.upcycle.ckpt;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint on disk is not what its format promises; the message names the file and tensor. */
public class CheckpointFormatException extends IOException {

  private static final long serialVersionUID = 1L;

  public CheckpointFormatException(Path file, String tensor, String problem) {
    super(describe(file, tensor, problem));
  }

  public CheckpointFormatException(Path file, String tensor, String problem, Throwable cause) {
    super(describe(file, tensor, problem), cause);
  }

  private static String describe(Path file, String tensor, String problem) {
    StringBuilder sb = new StringBuilder();
    sb.append(file);
    if (tensor != null) {
      sb.append(": tensor '").append(tensor).append('\'');
    }
    return sb.append(": ").append(problem).toString();
  }
}
