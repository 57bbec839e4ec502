package dev.upcycle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.savedmodels.ExportOptions;
import dev.upcycle.savedmodels.SavedModelExporter;
import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.distributed.DistributedTraining;
import dev.upcycle.train.distributed.Placement;
import dev.upcycle.train.metrics.TrainListener;
import dev.upcycle.train.step.SyntheticBatchSource;
import dev.upcycle.train.step.Trainer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.types.TFloat32;

/**
 * A checkpoint of an expert-parallel run ({@code moe.expert_shards} 2 over 2 local CPU devices)
 * exports like the one of the same run on one device: a SavedModel that loads and serves, with the
 * same canonical weights.
 */
class ExpertShardsExportTest {

  static final int STEPS = 2;

  static TrainConfig config(Path dir, String name, int shards) {
    return TrainConfig.defaults().withOverrides(Map.ofEntries(
        Map.entry("model.t5", "{\"d_model\":32,\"d_ff\":64,\"num_heads\":2,\"d_kv\":16,\"encoder_layers\":2,"
            + "\"decoder_layers\":2,\"vocab_size\":128,\"relative_buckets\":8,\"relative_max_distance\":16,"
            + "\"dropout\":0.0}"),
        Map.entry("moe.num_experts", "4"), Map.entry("moe.group_size", "8"),
        Map.entry("moe.expert_shards", String.valueOf(shards)),
        Map.entry("batch_size", "4"), Map.entry("input_length", "8"), Map.entry("target_length", "8"),
        Map.entry("train_steps", String.valueOf(STEPS)), Map.entry("xla", "off"), Map.entry("seed", "5"),
        Map.entry("output_dir", dir.resolve(name).toString())));
  }

  static Path exported(Path dir, String name, int shards) throws Exception {
    TrainConfig c = config(dir, name, shards);
    Trainer.StepFactory steps = shards == 1 ? Trainer.ONE_PROCESS
        : DistributedTraining.steps(Placement.localCpus(shards));
    Trainer.run(c, new SyntheticBatchSource(c.modelSpec(), c.batchShape(), TFloat32.class, c.seed()),
        Optional.empty(), false, TrainListener.NONE, Optional.empty(), steps);
    Path ckpt = dir.resolve(name).resolve("checkpoints").resolve(CheckpointManager.folderName(STEPS));
    SavedModelExporter.ExportResult r = SavedModelExporter.export(c.modelSpec(), ckpt, dir.resolve("export_" + name),
        ExportOptions.defaults().withBatch(2), null, line -> { });
    assertTrue(r.verified(), "the SavedModel loads and answers a request");
    return r.versionDir().resolve("variables/variables");
  }

  static Map<String, float[]> weights(Path variables) throws Exception {
    Map<String, float[]> out = new TreeMap<>();
    try (TfBundleReader r = TfBundleReader.open(variables)) {
      for (TensorInfo t : r.tensors()) {
        RawTensor raw = r.read(t.name());
        FloatBuffer f = raw.data().asFloatBuffer();
        float[] v = new float[f.remaining()];
        f.get(v);
        out.put(t.name(), v);
      }
    }
    return out;
  }

  @Test
  void theShardedRunsCheckpointExportsTheSameWeights(@TempDir Path dir) throws Exception {
    Map<String, float[]> whole = weights(exported(dir, "whole", 1));
    Map<String, float[]> sharded = weights(exported(dir, "sharded", 2));
    assertEquals(whole.keySet(), sharded.keySet(), "canonical names");
    assertTrue(whole.keySet().stream().anyMatch(n -> n.contains("/expert/")), whole.keySet().toString());
    for (String name : whole.keySet()) {
      float[] a = whole.get(name);
      float[] b = sharded.get(name);
      assertEquals(a.length, b.length, name);
      for (int i = 0; i < a.length; i++) {
        assertEquals(a[i], b[i], 1e-5 * Math.max(1, Math.abs(a[i])), name + "[" + i + "]");
      }
    }
  }
}
