package dev.upcycle.train.step;

/**
 * Training or evaluation data by step number. {@link #nextBatch} must be a pure function of the
 * source's seed and {@code step}: a job resumed at step k asks for step k again and must get the
 * batch the interrupted job would have used. The caller closes each batch.
 */
public interface BatchSource extends AutoCloseable {

  /** The batch for update number {@code step} (0-based: the value of {@code state/step}). */
  Batch nextBatch(long step);

  @Override
  default void close() {}
}
