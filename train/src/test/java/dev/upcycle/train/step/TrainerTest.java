package dev.upcycle.train.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.arch.SyntheticBatch;
import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.ckpt.RestoreReport;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;

class TrainerTest {

  private static TrainConfig config(Path out, Map<String, String> more) {
    Map<String, String> o = new HashMap<>(Map.of(
        "model.t5", "{\"d_model\":32,\"d_ff\":64,\"num_heads\":2,\"d_kv\":16,\"encoder_layers\":2,"
            + "\"decoder_layers\":2,\"vocab_size\":128,\"relative_buckets\":8,\"relative_max_distance\":16,"
            + "\"dropout\":0.0}",
        "moe.num_experts", "4", "batch_size", "2", "input_length", "8", "target_length", "8",
        "optimizer.adafactor.min_dim_size_to_factor", "8", "xla", "false", "output_dir", out.toString()));
    o.putAll(more);
    return TrainConfig.defaults().withOverrides(o);
  }

  /** A converter-style checkpoint: model weights (another seed) and an int64 state/step, no slots. */
  @Test
  void initialisesFromAConverterCheckpointAndCarriesTheStep(@TempDir Path tmp) throws Exception {
    TrainConfig c = config(tmp.resolve("run"), Map.of("train_steps", "20003", "schedule.base", "1.0",
        "schedule.warmup", "10000", "checkpoint_every", "1000"));
    Path prefix = tmp.resolve("upcycled/checkpoint/model.ckpt-20000");
    double expectedFirstLoss;
    ModelSpec spec = c.modelSpec();
    SyntheticBatchSource data = new SyntheticBatchSource(spec, c.batchShape(), TFloat32.class, c.seed());
    TrainStep.Options other = new TrainStep.Options(Trainer.stepOptions(c).optimizer(),
        Trainer.stepOptions(c).schedule(), 0, dev.upcycle.model.graph.XlaMode.OFF, c.zLoss(), 0, 999);
    try (TrainStep<TFloat32> source = TrainStep.build(spec, c.batchShape(), TFloat32.class, other).initialize();
        TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(prefix.getParent()).resolve(prefix.getFileName()));
        Batch b = data.nextBatch(20000)) {
      SessionState st = new SessionState(source);
      List<String> weights = new ArrayList<>();
      st.tensors().stream().filter(t -> st.required(t.name())).forEach(t -> weights.add(t.name()));
      for (RawTensor t : st.read(weights)) {
        w.write(t);
      }
      w.write(new RawTensor(new TensorInfo("state/step", DType.INT64, new long[0]),
          ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 20000)));
      w.commit();
      expectedFirstLoss = source.lossAndGradients(b, Seeds.dropout(c.seed(), 20000)).get(0)[0];
    }
    List<StepMetrics> seen = new ArrayList<>();
    TrainResult r = Trainer.run(c, data, Optional.of(prefix.getParent()), false, new TrainListener() {
      @Override
      public void onStep(StepMetrics m) {
        seen.add(m);
      }
    });
    assertEquals(20000, r.startStep());
    assertEquals(20003, r.finalStep());
    assertEquals(3, seen.size());
    assertEquals(20001, seen.get(0).step());
    assertEquals(1 / Math.sqrt(20000), seen.get(0).learningRate(), 1e-9, "rsqrt continues from the carried step");
    assertEquals(1 / Math.sqrt(20002), seen.get(2).learningRate(), 1e-9);
    assertEquals(expectedFirstLoss, seen.get(0).loss(), 1e-5, "the checkpoint's weights were loaded");
    assertEquals(List.of(tmp.resolve("run/checkpoints/step_020003").toAbsolutePath()), r.checkpoints());
    assertTrue(Files.exists(r.checkpoints().get(0).resolve("model.ckpt-20003.index")));
    assertTrue(Files.exists(r.checkpoints().get(0).resolve("config.json")));
  }

  @Test
  void restoreRejectsAMismatchedCheckpointWithNames(@TempDir Path tmp) throws Exception {
    TrainConfig c = config(tmp.resolve("run"), Map.of("train_steps", "2", "checkpoint_every", "1"));
    Trainer.run(c, new SyntheticBatchSource(c.modelSpec(), c.batchShape(), TFloat32.class, 1), Optional.empty(), false,
        TrainListener.NONE);
    TrainConfig dense = config(tmp.resolve("run2"), Map.of("moe.num_experts", "0", "train_steps", "2"));
    try (TrainStep<TFloat32> step = TrainStep.build(dense.modelSpec(), dense.batchShape(), TFloat32.class,
        Trainer.stepOptions(dense)).initialize()) {
      var e = assertThrows(java.io.IOException.class, () -> CheckpointManager.restore(
          tmp.resolve("run/checkpoints/step_000002"), new SessionState(step)));
      assertTrue(e.getMessage().contains("the model does not have") && e.getMessage().contains("mlp/expert"),
          e.getMessage());
    }
  }

  /** NaN pixels at step 3 stop the job naming the step; checkpoint 2 stays and loads. */
  @Test
  void nonFiniteStepStopsTheJobAndKeepsTheLastGoodCheckpoint(@TempDir Path tmp) throws Exception {
    TrainConfig c = TrainConfig.defaults().withOverrides(Map.of("model.vit", "{\"image_size\":8,\"patch_size\":4,"
        + "\"channels\":1,\"num_classes\":3,\"d_model\":16,\"d_ff\":32,\"num_heads\":2,\"layers\":2,"
        + "\"pooling\":\"GAP\",\"dropout\":0.0}", "batch_size", "2", "train_steps", "6", "checkpoint_every", "2",
        "xla", "false", "output_dir", tmp.resolve("run").toString()));
    SyntheticBatchSource good = new SyntheticBatchSource(c.modelSpec(), c.batchShape(), TFloat32.class, 3);
    BatchSource poisoned = step -> {
      Batch b = good.nextBatch(step);
      if (step != 3) {
        return b;
      }
      Map<String, Tensor> f = new HashMap<>(b.features());
      TFloat32 img = (TFloat32) f.get(SyntheticBatch.IMAGES);
      img.asRawTensor().data().asFloats().setFloat(Float.NaN, 5);
      return new Batch(f);
    };
    NonFiniteException e = assertThrows(NonFiniteException.class, () -> Trainer.run(c, poisoned, Optional.empty(),
        false, TrainListener.NONE));
    assertEquals(3, e.step());
    assertTrue(e.getMessage().contains("step 3") && e.getMessage().contains("embedding/kernel"), e.getMessage());
    CheckpointManager m = new CheckpointManager(tmp.resolve("run/checkpoints"), 3);
    assertEquals(List.of(2L), m.list().stream().map(CheckpointManager::stepOf).toList());
    try (TrainStep<TFloat32> step = TrainStep.build(c.modelSpec(), c.batchShape(), TFloat32.class,
        Trainer.stepOptions(c)).initialize()) {
      RestoreReport r = CheckpointManager.restore(m.latest().orElseThrow(), new SessionState(step));
      assertTrue(r.fresh().isEmpty());
      assertEquals(2, step.step());
    }
  }

  @Test
  void evaluatorMatchesTheTrainForwardAndLearnsARepeatedBatch(@TempDir Path tmp) throws Exception {
    TrainConfig c = config(tmp, Map.of("moe.num_experts", "0"));
    ModelSpec spec = c.modelSpec();
    BatchSource same = new SyntheticBatchSource(spec, c.batchShape(), TFloat32.class, 4)::nextBatch;
    BatchSource fixed = step -> same.nextBatch(0);
    TrainStep.Options o = new TrainStep.Options(dev.upcycle.train.optim.AdamW.defaults(),
        dev.upcycle.train.optim.Schedule.constant(1e-2), 0, dev.upcycle.model.graph.XlaMode.OFF, 1e-4, 0, 5);
    try (TrainStep<TFloat32> step = TrainStep.build(spec, c.batchShape(), TFloat32.class, o).initialize();
        Evaluator<TFloat32> eval = Evaluator.attach(step)) {
      Evaluator.Evaluation before = eval.evaluate(fixed, 1);
      double trainLoss;
      try (Batch b = fixed.nextBatch(0)) {
        trainLoss = step.lossAndGradients(b, 0).get(0)[0];
      }
      assertEquals(trainLoss, before.loss(), 1e-5 * Math.abs(trainLoss), "eval sees the same weights and loss");
      assertEquals(14, before.counted(), "real target tokens: 8 + 6 (one padded row)");
      assertTrue(before.accuracy() < 0.5, "random init accuracy " + before.accuracy());
      for (int i = 0; i < 60; i++) {
        try (Batch b = fixed.nextBatch(0)) {
          step.run(b, i);
        }
      }
      Evaluator.Evaluation after = eval.evaluate(fixed, 2);
      assertTrue(after.loss() < before.loss() / 2, before.loss() + " -> " + after.loss());
      assertTrue(after.accuracy() > 0.9, "memorised accuracy " + after.accuracy());
      assertEquals(28, after.counted());
    }
  }
}
