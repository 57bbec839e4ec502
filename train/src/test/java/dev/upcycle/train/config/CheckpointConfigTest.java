package dev.upcycle.train.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.provenance.Provenance;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job starting from a checkpoint takes the model from it, and refuses overrides that contradict its tensors. */
class CheckpointConfigTest {

  @TempDir Path tmp;

  private static final T5Config T5 = (T5Config) Presets.get("t5-tiny");
  private static final ModelSpec MOE = ModelSpec.sparse(T5, MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER,
      SparseLayout.EVERY_OTHER);

  private static void bundle(Path folder, List<TensorInfo> tensors) throws Exception {
    try (TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(folder).resolve("model.ckpt-0"))) {
      for (TensorInfo t : tensors) {
        w.write(new RawTensor(t, ByteBuffer.allocate((int) t.byteSize())));
      }
      w.commit();
    }
  }

  private static TensorInfo f32(String name, long... shape) {
    return new TensorInfo(name, DType.FLOAT32, shape);
  }

  /** The tensors {@code SpecDetector} reads to recognise the t5-tiny MoE (E 4 on layer 1 of each stack). */
  private static List<TensorInfo> t5TinyMoeTensors() {
    return List.of(f32("token_embedder/embedding", 1024, 64),
        f32("encoder/relpos_bias/rel_embedding", 4, 32), f32("decoder/relpos_bias/rel_embedding", 4, 32),
        f32("encoder/layers_0/attention/query/kernel", 64, 64), f32("encoder/layers_0/mlp/wi_0/kernel", 64, 128),
        f32("encoder/layers_1/mlp/expert/wi_0/kernel", 4, 64, 128),
        f32("decoder/layers_0/self_attention/query/kernel", 64, 64), f32("decoder/layers_0/mlp/wi_0/kernel", 64, 128),
        f32("decoder/layers_1/mlp/expert/wi_0/kernel", 4, 64, 128));
  }

  private Path withProvenance() throws Exception {
    Path ckpt = tmp.resolve("moe");
    bundle(ckpt, List.of(f32("token_embedder/embedding", 1024, 64)));
    Provenance.of(Provenance.Kind.CONVERT, null, null, MOE, null).writeTo(ckpt);
    return ckpt;
  }

  private static Map<String, String> set(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void theModelComesFromTheCheckpointWithNoFlags() throws Exception {
    CheckpointConfig.Resolved r = CheckpointConfig.resolve(withProvenance(), Optional.empty(), Map.of(), false);
    assertEquals(MOE, r.config().modelSpec());
    assertEquals("provenance", r.checkpoint().from());
    assertEquals(TrainConfig.defaults().batchSize(), r.config().batchSize());
  }

  @Test
  void routerSettingsAndTheRestOfTheJobMayBeSet() throws Exception {
    TrainConfig c = CheckpointConfig.resolve(withProvenance(), Optional.empty(),
        set("moe.encoder_router.capacity_factor", "1.0", "moe.decoder_router.k", "1", "batch_size", "3"), false).config();
    assertEquals(1.0, c.modelSpec().moe().orElseThrow().encoderRouter().capacityFactor());
    assertEquals(1, c.modelSpec().moe().orElseThrow().decoderRouter().k());
    assertEquals(3, c.batchSize());
    assertEquals(4, c.modelSpec().moe().orElseThrow().numExperts());
  }

  @Test
  void anOverrideThatContradictsTheTensorsIsRefusedNamingKeyAndBothValues() throws Exception {
    Path ckpt = withProvenance();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointConfig.resolve(ckpt, Optional.empty(), set("moe.num_experts", "8"), false));
    assertTrue(e.getMessage().startsWith(ckpt.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(
        "moe.num_experts: the checkpoint has 4 (from its provenance), --set moe.num_experts=8 asks for 8"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointConfig.resolve(ckpt, Optional.empty(), set("model.preset", "t5-small"), false));
    assertTrue(e.getMessage().contains("model.t5.d_model: the checkpoint has 64 (from its provenance),"
        + " --set model.preset=t5-small asks for 512"), e.getMessage());

    Path file = tmp.resolve("job.json");
    Files.writeString(file, "{\"moe\": {\"encoder_layout\": \"0\"}, \"batch_size\": 2}");
    e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointConfig.resolve(ckpt, Optional.of(file), Map.of(), false));
    assertTrue(e.getMessage().contains("moe.encoder_layers: the checkpoint has 1 (from its provenance), --config "
        + file + " asks for 0"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointConfig.resolve(ckpt, Optional.empty(), set("model.preset", "vit-mnist"), false));
    assertTrue(e.getMessage().contains("model: the checkpoint has t5 (from its provenance), --set model.preset=vit-mnist"
        + " asks for vit") && !e.getMessage().contains("moe."), e.getMessage());
  }

  @Test
  void aCheckpointWithoutProvenanceIsReadFromItsTensors() throws Exception {
    Path ckpt = tmp.resolve("t5x-like");
    bundle(ckpt, t5TinyMoeTensors());
    CheckpointConfig.Resolved r = CheckpointConfig.resolve(ckpt, Optional.empty(), Map.of(), false);
    assertEquals("tensors", r.checkpoint().from());
    ModelSpec spec = r.config().modelSpec();
    assertEquals(T5, spec.arch());
    assertEquals(4, spec.moe().orElseThrow().numExperts());
    assertEquals(RouterType.EXPERT_CHOICE, spec.moe().orElseThrow().encoderRouter().type());
    assertEquals(List.of(1), List.copyOf(spec.encoderLayout().sparseLayers(2)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointConfig.resolve(ckpt, Optional.empty(), set("model.t5", "{\"d_model\": 32, \"d_ff\": 128,"
            + " \"num_heads\": 4, \"d_kv\": 16, \"encoder_layers\": 2, \"decoder_layers\": 2, \"vocab_size\": 1024,"
            + " \"relative_buckets\": 32, \"relative_max_distance\": 128, \"dropout\": 0.0}"), false));
    assertTrue(e.getMessage().contains("model.t5.d_model: the checkpoint has 64 (from its tensors)"), e.getMessage());
  }

  @Test
  void withNoSpecAnywhereTheModelFlagsAreAskedFor() throws Exception {
    Path ckpt = tmp.resolve("unknown");
    bundle(ckpt, List.of(f32("some/weight", 3)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointConfig.resolve(ckpt, Optional.empty(), Map.of(), false));
    assertTrue(e.getMessage().contains("records no model spec") && e.getMessage().contains("--set model.preset"),
        e.getMessage());
    // the flags then give it
    TrainConfig c = CheckpointConfig.resolve(ckpt, Optional.empty(), set("model.preset", "lm-tiny"), false).config();
    assertEquals(Presets.get("lm-tiny"), c.modelSpec().arch());
  }

  @Test
  void aLegacyStepFolderGivesItsRunConfigToEvalAndExport() throws Exception {
    Path step = tmp.resolve("run/checkpoints/step_000002");
    bundle(step, List.of(f32("some/weight", 3)));
    TrainConfig run = TrainConfig.defaults().withOverrides(set("model.preset", "vit-mnist", "batch_size", "5",
        "moe.num_experts", "2", "moe.encoder_layout", "last_1"));
    Files.writeString(step.resolve("config.json"), run.toJson());
    TrainConfig c = CheckpointConfig.resolve(step, Optional.empty(), Map.of(), true).config();
    assertEquals(run.modelSpec(), c.modelSpec());
    assertEquals(5, c.batchSize());
    assertEquals(TrainConfig.defaults().batchSize(),
        CheckpointConfig.resolve(step, Optional.empty(), Map.of(), false).config().batchSize());
  }

  @Test
  void aMissingCheckpointIsNamed() {
    Path missing = tmp.resolve("nothing-here");
    var e = assertThrows(java.nio.file.NoSuchFileException.class,
        () -> CheckpointConfig.resolve(missing, Optional.empty(), Map.of(), false));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
  }
}
