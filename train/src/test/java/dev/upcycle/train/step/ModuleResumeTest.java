package dev.upcycle.train.step;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.metrics.TrainListener;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.types.TFloat32;

/**
 * Exact resume with the step compiled as one XLA module: 3 steps, a checkpoint, a new process-like
 * start (a fresh step graph and compile) resuming to 6 steps gives the losses and final weights of
 * an uninterrupted 6-step module run (1e-6: the same compiled program on the same inputs).
 */
class ModuleResumeTest {

  private static TrainConfig config(Path out, long steps) {
    return ResumeTest.config(out).withOverrides(Map.of("xla", "module", "train_steps", String.valueOf(steps),
        "checkpoint_every", "3"));
  }

  private static TrainResult run(TrainConfig c, boolean resume) throws Exception {
    return Trainer.run(c, new SyntheticBatchSource(c.modelSpec(), c.batchShape(), TFloat32.class, c.seed()),
        Optional.empty(), resume, TrainListener.NONE);
  }

  @Test
  void moduleRunResumesExactly(@TempDir Path tmp) throws Exception {
    TrainResult ref = run(config(tmp.resolve("ref"), 6), false);
    run(config(tmp.resolve("split"), 3), false);
    TrainResult resumed = run(config(tmp.resolve("split"), 6), true);
    assertEquals(3, resumed.startStep());
    assertEquals(6, resumed.finalStep());
    List<Double> want = ResumeTest.losses(tmp.resolve("ref"));
    List<Double> got = ResumeTest.losses(tmp.resolve("split"));
    assertEquals(want.size(), got.size());
    for (int i = 0; i < want.size(); i++) {
      assertEquals(want.get(i), got.get(i), 1e-6 * Math.abs(want.get(i)), "loss at step " + (i + 1));
    }
    List<Path> a = ref.checkpoints();
    List<Path> b = resumed.checkpoints();
    ResumeTest.assertSameTensors(CheckpointManager.prefix(a.get(a.size() - 1), 6),
        CheckpointManager.prefix(b.get(b.size() - 1), 6));
  }
}
