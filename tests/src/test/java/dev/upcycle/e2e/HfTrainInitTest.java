package dev.upcycle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.hf.HfCanonicalReaderTest;
import dev.upcycle.ckpt.hf.SafetensorsTestWriter;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.Presets;
import dev.upcycle.model.VitConfig;
import dev.upcycle.provenance.Provenance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --init} on a Hugging Face ViT folder, with no model flag: the model comes from its config.json. */
class HfTrainInitTest {

  @Test
  void aHuggingFaceFolderInitialisesATrainingRun(@TempDir Path tmp) throws Exception {
    VitConfig vit = ((VitConfig) Presets.get("vit-mnist")).withPooling(VitConfig.Pooling.CLS);
    String model = "{\"image_size\": 28, \"patch_size\": 7, \"channels\": 1, \"num_classes\": 10, \"d_model\": 64,"
        + " \"d_ff\": 128, \"num_heads\": 4, \"layers\": 4, \"pooling\": \"CLS\", \"dropout\": 0.0}";
    Path dense = tmp.resolve("dense");
    Cli first = Cli.run("train", "--synthetic", "--no-xla", "--steps", "1", "--output", dense.toString(),
        "--set", "model.vit=" + model, "--set", "batch_size=2");
    assertEquals(0, first.code(), first.err());
    Map<String, RawTensor> canonical = new TreeMap<>();
    try (CheckpointReader r = TfBundleReader.open(dense.resolve("checkpoints/step_000001"))) {
      for (TensorInfo t : r.tensors()) {
        if (!t.name().startsWith("state/")) {
          canonical.put(t.name(), r.read(t.name()));
        }
      }
    }
    Path hf = Files.createDirectories(tmp.resolve("vit-hf"));
    SafetensorsTestWriter.write(hf.resolve("model.safetensors"),
        new ArrayList<>(HfCanonicalReaderTest.torchVit(canonical).values()));
    Files.writeString(hf.resolve("config.json"), "{\"architectures\": [\"ViTForImageClassification\"],"
        + " \"model_type\": \"vit\", \"hidden_size\": 64, \"intermediate_size\": 128, \"num_attention_heads\": 4,"
        + " \"num_hidden_layers\": 4, \"image_size\": 28, \"patch_size\": 7, \"num_channels\": 1,"
        + " \"hidden_act\": \"gelu\", \"qkv_bias\": true, \"hidden_dropout_prob\": 0.0,"
        + " \"attention_probs_dropout_prob\": 0.0, \"num_labels\": 10}");

    Path run = tmp.resolve("run");
    Cli train = Cli.run("train", "--init", hf.toString(), "--synthetic", "--no-xla", "--steps", "2",
        "--output", run.toString(), "--set", "batch_size=2");
    assertEquals(0, train.code(), train.err());
    Provenance record = Provenance.find(run.resolve("checkpoints/step_000002")).orElseThrow();
    assertEquals(ModelSpec.dense(vit), record.spec().orElseThrow());
    assertEquals("hf-safetensors", record.source().format());
    assertTrue(record.source().path().endsWith("model.safetensors"), record.source().path());
  }
}
