package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.metrics.TrainListener;
import dev.upcycle.train.step.BatchSource;
import dev.upcycle.train.step.TrainResult;
import dev.upcycle.train.step.TrainStep;
import dev.upcycle.train.step.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.types.family.TFloating;

/**
 * A training job over in-graph replicas: the {@link Trainer} loop unchanged (checkpoints, metrics
 * and provenance are written by this process only, which for a cluster is the chief), the step
 * built by {@link ReplicatedModel} on a {@link Placement}.
 */
public final class DistributedTraining {

  private DistributedTraining() {}

  /**
   * Train steps over the devices of {@code placement}: one data-parallel replica per device, and
   * with {@code moe.expert_shards} N > 1 the experts split over groups of N devices
   * ({@link ReplicatedModel}).
   */
  public static Trainer.StepFactory steps(Placement placement) {
    checkNotNull(placement, "placement");
    return new Trainer.StepFactory() {
      @Override
      public <T extends TFloating> TrainStep<T> build(TrainConfig c, Class<T> dtype) {
        TrainStep.Options o = Trainer.stepOptions(c);
        checkArgument(o.xla() != XlaMode.MODULE, "xla: module mode (one XLA function) is not built for replicated"
            + " steps yet; use xla auto or off with --cluster / --local-replicas");
        checkArgument(o.precision() == Precision.FLOAT32, "precision: %s is not built for replicated steps yet;"
            + " use float32 with --cluster / --local-replicas", o.precision().configName());
        int shards = c.moe().expertShards();
        checkArgument(shards == 1 || o.xla() == XlaMode.OFF, "xla: %s is not built for expert-parallel steps"
            + " (moe.expert_shards %s) yet; use xla off", o.xla().configName(), shards);
        return TrainStep.over(ReplicatedModel.build(c.modelSpec(), c.batchShape(), dtype, o.initSeed(), o.zLossFactor(),
            o.labelSmoothing(), placement, o.xla().autoClustering(), shards), o);
      }
    };
  }

  /**
   * The chief's job: refuses to run on another task, starts the chief's server, checks every task
   * (each within {@code timeout}) before any graph is built, then trains with one replica per
   * worker. A step that fails (a task died: the step's blocking operations end after
   * {@code timeout}) is reported with the tasks that are unreachable now, by name and address;
   * the checkpoints written so far are complete (atomic) and {@code resume} continues from the
   * newest.
   */
  public static TrainResult runChief(ClusterSpec cluster, Duration timeout, TrainConfig config, BatchSource source,
      Optional<Path> init, boolean resume, TrainListener listener, Optional<BatchSource> eval) throws IOException {
    checkNotNull(cluster, "cluster");
    checkArgument(cluster.isChief(), "train --cluster runs on the chief (%s at %s); this process is task %s: start it"
        + " with `upcycle server`", cluster.chief(), cluster.address(cluster.chief()), cluster.task());
    ClusterServer.start(cluster);
    List<String> problems = ClusterCheck.problems(ClusterCheck.check(cluster, timeout));
    checkArgument(problems.isEmpty(), "cluster not ready: %s", problems);
    try {
      return Trainer.run(config, source, init, resume, listener, eval, steps(Placement.cluster(cluster, timeout)));
    } catch (TensorFlowException e) {
      List<String> down = ClusterCheck.problems(ClusterCheck.check(cluster, Duration.ofSeconds(5)));
      throw new ClusterFailureException((down.isEmpty() ? "a step failed (every task still answers)"
          : "a step failed; task(s) down: " + String.join("; ", down)) + ". TensorFlow said: " + firstLine(e), e);
    }
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** A distributed step failed; the message names the tasks that are down. */
  public static final class ClusterFailureException extends RuntimeException {
    ClusterFailureException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
