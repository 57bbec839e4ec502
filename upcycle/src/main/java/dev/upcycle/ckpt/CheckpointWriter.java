package dev.upcycle.ckpt;

import java.io.IOException;

/**
 * Writes tensors one at a time into the folder it was given; {@link #commit} finishes the
 * checkpoint's files there. Making the folder appear atomically, and removing it when the writer
 * fails or is closed without commit, is the job of the caller's {@link AtomicFolder} stage.
 */
public interface CheckpointWriter extends AutoCloseable {

  void write(RawTensor tensor) throws IOException;

  /**
   * Writes tensor {@code target} whose bytes are {@code copies} back-to-back copies of
   * {@code piece} (an expert-tiled tensor: [E, ...] = E copies in C order). Writers that stream
   * override this so memory stays one piece, whatever E is; the default builds the whole tensor.
   */
  default void writeRepeated(TensorInfo target, RawTensor piece, int copies) throws IOException {
    long size = piece.info().byteSize();
    if (size < 0 || Math.multiplyExact(size, (long) copies) != target.byteSize() || piece.info().dtype() != target.dtype()) {
      throw new IllegalArgumentException("tensor " + target + " is not " + copies + " copies of " + piece.info());
    }
    java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate(Math.toIntExact(target.byteSize()));
    for (int i = 0; i < copies; i++) {
      all.put(piece.data());
    }
    all.flip();
    write(new RawTensor(target, all));
  }

  /** Finishes the files (index, metadata); the folder's own commit publishes them. */
  void commit() throws IOException;

  /** Lets go of open files; what was written stays for the stage to publish or remove. */
  @Override
  void close() throws IOException;
}
