package dev.upcycle.train.ckpt;

/** Told after each tensor of a checkpoint is written (for progress display). */
@FunctionalInterface
public interface WriteProgress {

  WriteProgress NONE = (step, written, total) -> {};

  void tensorWritten(long step, int written, int total);
}
