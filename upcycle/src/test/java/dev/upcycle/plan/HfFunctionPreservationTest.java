package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.hf.FlaxMsgpackTestWriter;
import dev.upcycle.ckpt.hf.HfCanonicalReaderTest;
import dev.upcycle.ckpt.hf.SafetensorsTestWriter;
import dev.upcycle.inspect.InspectReport;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.provenance.Provenance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.types.TFloat32;

/**
 * A dense T5 v1.1 and ViT written as Hugging Face folders ({@code config.json} + safetensors,
 * single or sharded, or Flax msgpack; the HF layouts made by the test's own transposes) convert to
 * an MoE whose logits equal the dense model's: max |dense − moe| / max |dense| ≤ 1e-5 (renormalised
 * combine weights, capacity for every token). The spec comes from {@code config.json} alone.
 */
class HfFunctionPreservationTest {

  private static final T5Config T5 = (T5Config) Presets.get("t5-tiny");
  private static final VitConfig VIT = ((VitConfig) Presets.get("vit-mnist")).withPooling(VitConfig.Pooling.CLS);

  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} as {1}")
  @CsvSource({"t5, safetensors", "t5, sharded", "t5, flax", "vit, safetensors", "vit, sharded", "vit, flax"})
  void anHfFolderUpcyclesWithTheDenseLogits(String model, String form) throws Exception {
    ArchitectureConfig arch = model.equals("t5") ? T5 : VIT;
    BatchShape shape = model.equals("t5") ? new BatchShape(2, 8, 6) : new BatchShape(3, 1, 1);
    Path hf = tmp.resolve("hf");
    Files.createDirectories(hf);
    float[] denseLogits;
    try (ModelGraph<TFloat32> g = ModelGraph.build(ModelSpec.dense(arch), shape, TFloat32.class, false, 11, false,
        false).initialize()) {
      Map<String, RawTensor> canonical = new TreeMap<>();
      ModelCheckpoints.variables(g).forEach(t -> canonical.put(t.name(), t));
      boolean flax = form.equals("flax");
      Map<String, RawTensor> named = model.equals("t5")
          ? (flax ? HfCanonicalReaderTest.flaxT5(canonical) : HfCanonicalReaderTest.torchT5(canonical))
          : (flax ? HfCanonicalReaderTest.flaxVit(canonical) : HfCanonicalReaderTest.torchVit(canonical));
      List<RawTensor> tensors = new ArrayList<>(named.values());
      switch (form) {
        case "safetensors" -> SafetensorsTestWriter.write(hf.resolve("model.safetensors"), tensors);
        case "sharded" -> SafetensorsTestWriter.writeSharded(hf, List.of(tensors.subList(0, tensors.size() / 2),
            tensors.subList(tensors.size() / 2, tensors.size())));
        default -> FlaxMsgpackTestWriter.write(hf.resolve("flax_model.msgpack"), tensors);
      }
      Files.writeString(hf.resolve("config.json"), model.equals("t5") ? T5_CONFIG : VIT_CONFIG);
      denseLogits = ModelCheckpoints.logits(g, 5);
    }

    InspectReport report = InspectReport.of(hf, Optional.empty());
    assertEquals(ModelSpec.dense(arch), report.spec().spec().orElseThrow(), "the spec comes from config.json");
    assertTrue(report.format().contains("<- "), "HF names shown beside the canonical ones");

    Path out = tmp.resolve("moe");
    UpcycleOptions options = UpcycleOptions.defaults(4).withLayouts(SparseLayout.EVERY_OTHER,
        model.equals("t5") ? SparseLayout.EVERY_OTHER : SparseLayout.DENSE).withSeed(3);
    ConvertJob.run(hf, out, options, Optional.empty(), false, false, ProgressListener.NONE);
    ModelSpec recorded = Provenance.find(out).orElseThrow().spec().orElseThrow();
    assertEquals(arch, recorded.arch(), "convert records the spec config.json gave");

    MoeConfig moe = (model.equals("t5") ? MoeConfig.paperT5(4) : MoeConfig.paperVit(4)).withRouters(
        RouterConfig.expertChoice(4.0).withRenormalize(true), RouterConfig.topK(2, 2.0).withRenormalize(true));
    ModelSpec moeSpec = ModelSpec.sparse(arch, moe, options.encoderLayout(), options.decoderLayout());
    try (ModelGraph<TFloat32> g = ModelGraph.build(moeSpec, shape, TFloat32.class, false, 99, false, false)) {
      ModelCheckpoints.load(g, out);
      double rel = ModelCheckpoints.maxRelativeDifference(denseLogits, ModelCheckpoints.logits(g, 5));
      assertTrue(rel <= 1e-5, "max relative difference " + rel);
    }
  }

  private static final String T5_CONFIG = """
      {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "d_model": 64, "d_ff": 128,
       "num_heads": 4, "d_kv": 16, "num_layers": 2, "num_decoder_layers": 2, "vocab_size": 1024,
       "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
       "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false, "dropout_rate": 0.0}
      """;

  private static final String VIT_CONFIG = """
      {"architectures": ["ViTForImageClassification"], "model_type": "vit", "hidden_size": 64,
       "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 4, "image_size": 28,
       "patch_size": 7, "num_channels": 1, "hidden_act": "gelu", "qkv_bias": true,
       "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "num_labels": 10}
      """;
}
