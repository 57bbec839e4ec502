package dev.upcycle.train.step;

import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import java.nio.file.Path;
import java.util.Optional;
import org.tensorflow.types.TFloat32;

/**
 * A training job in a child JVM for the kill-and-resume test. Args: config JSON path, "resume" or
 * "fresh", and the milliseconds to sleep in the middle of each checkpoint write (0 = none). Prints
 * {@code STEP n}, {@code WRITING n} (half-way through a checkpoint write, before the sleep),
 * {@code CHECKPOINT n} and {@code DONE n} lines, flushed, for the parent to act on.
 */
public final class TrainProcessMain {

  private TrainProcessMain() {}

  public static void main(String[] args) throws Exception {
    TrainConfig config = TrainConfig.load(Path.of(args[0]));
    boolean resume = args[1].equals("resume");
    long sleepMs = Long.parseLong(args[2]);
    TrainListener listener = new TrainListener() {
      @Override
      public void onStep(StepMetrics m) {
        System.out.println("STEP " + m.step());
        System.out.flush();
      }

      @Override
      public void onCheckpointProgress(long step, int written, int total) {
        if (written == total / 2 && sleepMs > 0) {
          System.out.println("WRITING " + step);
          System.out.flush();
          try {
            Thread.sleep(sleepMs);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }

      @Override
      public void onCheckpoint(long step, Path folder) {
        System.out.println("CHECKPOINT " + step);
        System.out.flush();
      }
    };
    TrainResult r = Trainer.run(config, new SyntheticBatchSource(config.modelSpec(), config.batchShape(),
        TFloat32.class, config.seed()), Optional.empty(), resume, listener);
    System.out.println("DONE " + r.finalStep());
    System.out.flush();
  }
}
