package dev.upcycle.train.distributed;

import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import dev.upcycle.train.step.SyntheticBatchSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.tensorflow.types.TFloat32;

/**
 * The chief of a loopback cluster in a child JVM, for the failure test. Args: cluster file, config
 * JSON, "fresh" or "resume", and a step after whose checkpoint to pause 5 s (0 = none; the parent
 * kills a worker during the pause). Prints {@code STEP n}, {@code CHECKPOINT n}, {@code DONE n} or
 * {@code FAILED <message>} (exit 3).
 */
public final class ChiefProcessMain {

  private ChiefProcessMain() {}

  public static void main(String[] args) throws Exception {
    ClusterSpec cluster = ClusterSpec.load(Optional.of(Path.of(args[0])));
    TrainConfig config = TrainConfig.load(Path.of(args[1]));
    boolean resume = args[2].equals("resume");
    long pauseAt = Long.parseLong(args[3]);
    TrainListener listener = new TrainListener() {
      @Override
      public void onStep(StepMetrics m) {
        System.out.println("STEP " + m.step());
        System.out.flush();
      }

      @Override
      public void onCheckpoint(long step, Path folder) {
        System.out.println("CHECKPOINT " + step);
        System.out.flush();
        if (step == pauseAt) {
          try {
            Thread.sleep(5000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
    };
    try {
      var r = DistributedTraining.runChief(cluster, Duration.ofSeconds(20), config, new SyntheticBatchSource(
          config.modelSpec(), config.batchShape(), TFloat32.class, config.seed()), Optional.empty(), resume, listener,
          Optional.empty());
      System.out.println("DONE " + r.finalStep());
      System.out.flush();
      System.exit(0);
    } catch (DistributedTraining.ClusterFailureException e) {
      System.out.println("FAILED " + e.getMessage().replace('\n', ' '));
      System.out.flush();
      System.exit(3);
    }
  }
}
