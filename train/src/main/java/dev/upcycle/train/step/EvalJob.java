package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.config.TrainConfig;
import java.io.IOException;
import java.nio.file.Path;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * {@code upcycle eval} as a library call: builds the model of a config, restores a checkpoint's
 * weights (optimizer state is not needed) and evaluates loss and accuracy (token accuracy for T5
 * and LM, top-1 for ViT) over batches {@code 0 .. batches-1} of a source.
 */
public final class EvalJob {

  private EvalJob() {}

  public static Evaluator.Evaluation run(TrainConfig config, Path checkpoint, BatchSource source, int batches)
      throws IOException {
    checkNotNull(config, "config");
    Class<? extends TFloating> dtype = config.dtype().equals("float64") ? TFloat64.class : TFloat32.class;
    return runTyped(config, dtype, checkpoint, source, batches);
  }

  private static <T extends TFloating> Evaluator.Evaluation runTyped(TrainConfig config, Class<T> dtype, Path checkpoint,
      BatchSource source, int batches) throws IOException {
    try (TrainStep<T> step = TrainStep.build(config.modelSpec(), config.batchShape(), dtype,
        Trainer.stepOptions(config))) {
      step.initialize();
      CheckpointManager.restore(checkpoint, new SessionState(step));
      try (Evaluator<T> evaluator = Evaluator.attach(step)) {
        return evaluator.evaluate(source, batches);
      }
    }
  }
}
