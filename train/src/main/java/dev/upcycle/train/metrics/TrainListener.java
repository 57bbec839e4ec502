package dev.upcycle.train.metrics;

import java.nio.file.Path;

/** Progress of a training job; every method has an empty default. Called on the training thread. */
public interface TrainListener {

  TrainListener NONE = new TrainListener() {};

  /** Training starts (or resumes) at {@code step} and stops at {@code lastStep}. */
  default void onStart(long step, long lastStep) {}

  default void onStep(StepMetrics metrics) {}

  /** A checkpoint write has written {@code written} of {@code total} tensors. */
  default void onCheckpointProgress(long step, int written, int total) {}

  default void onCheckpoint(long step, Path folder) {}

  default void onEval(long step, double loss, double accuracy) {}

  /**
   * An evaluation finished: total loss (cross-entropy plus z-loss), cross-entropy alone, and top-1
   * (ViT) or token (T5, LM) accuracy. The default forwards to {@link #onEval(long, double, double)}.
   */
  default void onEval(long step, double loss, double crossEntropy, double accuracy) {
    onEval(step, loss, accuracy);
  }

  default void onFinish(long step) {}

  /** Both listeners, in order. */
  default TrainListener andThen(TrainListener next) {
    TrainListener first = this;
    return new TrainListener() {
      @Override
      public void onStart(long step, long lastStep) {
        first.onStart(step, lastStep);
        next.onStart(step, lastStep);
      }

      @Override
      public void onStep(StepMetrics m) {
        first.onStep(m);
        next.onStep(m);
      }

      @Override
      public void onCheckpointProgress(long step, int written, int total) {
        first.onCheckpointProgress(step, written, total);
        next.onCheckpointProgress(step, written, total);
      }

      @Override
      public void onCheckpoint(long step, Path folder) {
        first.onCheckpoint(step, folder);
        next.onCheckpoint(step, folder);
      }

      @Override
      public void onEval(long step, double loss, double accuracy) {
        first.onEval(step, loss, accuracy);
        next.onEval(step, loss, accuracy);
      }

      @Override
      public void onEval(long step, double loss, double crossEntropy, double accuracy) {
        first.onEval(step, loss, crossEntropy, accuracy);
        next.onEval(step, loss, crossEntropy, accuracy);
      }

      @Override
      public void onFinish(long step) {
        first.onFinish(step);
        next.onFinish(step);
      }
    };
  }
}
