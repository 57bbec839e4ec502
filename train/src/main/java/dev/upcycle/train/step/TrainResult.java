package dev.upcycle.train.step;

import com.google.common.collect.ImmutableList;
import dev.upcycle.train.metrics.StepMetrics;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a {@link Trainer#run} did.
 *
 * @param startStep the step counter training started (or resumed) at
 * @param finalStep the step counter at the end
 * @param last the last step's metrics (empty when no step ran)
 * @param checkpoints the complete checkpoint folders present at the end, oldest first
 * @param runDir the run folder
 */
public record TrainResult(long startStep, long finalStep, Optional<StepMetrics> last, List<Path> checkpoints,
    Path runDir) {

  public TrainResult {
    checkpoints = ImmutableList.copyOf(checkpoints);
  }
}
