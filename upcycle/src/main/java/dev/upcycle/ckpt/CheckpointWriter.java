package dev.upcycle.ckpt;

import java.io.IOException;

/**
 * Writes tensors one at a time into a temporary location beside the target; {@link #commit} makes
 * the checkpoint appear atomically (rename), {@link #close} without commit removes everything.
 */
public interface CheckpointWriter extends AutoCloseable {

  void write(RawTensor tensor) throws IOException;

  /** Finishes the files and renames the result into place. */
  void commit() throws IOException;

  /** Deletes whatever was written unless {@link #commit} succeeded. */
  @Override
  void close() throws IOException;
}
