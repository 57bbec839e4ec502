package dev.upcycle.ckpt.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * config.json as {@code save_pretrained} writes it for google/t5-v1_1-base and
 * google/vit-base-patch16-224, read into our architectures; every refusal names the file, the
 * key, the value and what is expected.
 */
class HfConfigTest {

  private static final Path FILE = Path.of("model", "config.json");

  /** google/t5-v1_1-base's config.json (written before relative_attention_max_distance was saved). */
  static final String T5_V11_BASE = """
      {
        "architectures": ["T5ForConditionalGeneration"],
        "d_ff": 2048,
        "d_kv": 64,
        "d_model": 768,
        "decoder_start_token_id": 0,
        "dropout_rate": 0.1,
        "eos_token_id": 1,
        "feed_forward_proj": "gated-gelu",
        "initializer_factor": 1.0,
        "is_encoder_decoder": true,
        "layer_norm_epsilon": 1e-06,
        "model_type": "t5",
        "num_decoder_layers": 12,
        "num_heads": 12,
        "num_layers": 12,
        "output_past": true,
        "pad_token_id": 0,
        "relative_attention_num_buckets": 32,
        "tie_word_embeddings": false,
        "vocab_size": 32128
      }
      """;

  /** google/vit-base-patch16-224's config.json, 1000 ImageNet labels (names shortened). */
  static String vitBase() {
    StringBuilder id2label = new StringBuilder();
    StringBuilder label2id = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      String sep = i == 0 ? "" : ",\n";
      id2label.append(sep).append("    \"").append(i).append("\": \"class ").append(i).append('"');
      label2id.append(sep).append("    \"class ").append(i).append("\": ").append(i);
    }
    return """
        {
          "architectures": ["ViTForImageClassification"],
          "attention_probs_dropout_prob": 0.0,
          "hidden_act": "gelu",
          "hidden_dropout_prob": 0.0,
          "hidden_size": 768,
          "id2label": {
        %s
          },
          "image_size": 224,
          "initializer_range": 0.02,
          "intermediate_size": 3072,
          "label2id": {
        %s
          },
          "layer_norm_eps": 1e-12,
          "model_type": "vit",
          "num_attention_heads": 12,
          "num_channels": 3,
          "num_hidden_layers": 12,
          "patch_size": 16,
          "qkv_bias": true,
          "transformers_version": "4.13.0.dev0"
        }
        """.formatted(id2label, label2id);
  }

  @Test
  void t5V11BaseBecomesOurT5Base() throws IOException {
    HfConfig c = HfConfig.parse(FILE, T5_V11_BASE);
    assertEquals(new T5Config(768, 2048, 12, 64, 12, 12, 32128, 32, 128, 0.1), c.arch());
    assertEquals("hf-t5", c.naming());
    assertEquals(List.of(), c.notes(), "eps 1e-6 and the tanh GELU of gated-gelu match our graph");
    assertEquals(12, c.encoderLayers());
    assertEquals(12, c.decoderLayers());
    assertEquals(c.arch(), c.spec().arch());
  }

  @Test
  void t5DecoderDepthDefaultsToTheEncoders() throws IOException {
    String json = T5_V11_BASE.replace("\"num_decoder_layers\": 12,", "").replace("\"num_layers\": 12",
        "\"num_layers\": 3").replace("\"relative_attention_num_buckets\": 32",
        "\"relative_attention_num_buckets\": 32, \"relative_attention_max_distance\": 64");
    T5Config t = (T5Config) HfConfig.parse(FILE, json).arch();
    assertEquals(3, t.encoderLayers());
    assertEquals(3, t.decoderLayers());
    assertEquals(64, t.relativeMaxDistance());
  }

  @Test
  void vitBaseBecomesACLSViT() throws IOException {
    HfConfig c = HfConfig.parse(FILE, vitBase());
    assertEquals(new VitConfig(224, 16, 3, 1000, 768, 3072, 12, 12, VitConfig.Pooling.CLS, 0.0), c.arch());
    assertEquals("hf-vit", c.naming());
    assertEquals(0, c.decoderLayers());
    assertEquals(2, c.notes().size(), c.notes().toString());
    assertTrue(c.notes().get(0).contains("exact (erf) GELU"), c.notes().toString());
    assertTrue(c.notes().get(1).contains("layer_norm_eps is 1.0E-12"), c.notes().toString());
  }

  @Test
  void readingAFileNamesIt(@TempDir Path dir) throws IOException {
    Path file = dir.resolve(HfConfig.FILE_NAME);
    Files.writeString(file, T5_V11_BASE.replace("gated-gelu", "relu"));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> HfConfig.read(file));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    CheckpointFormatException none = assertThrows(CheckpointFormatException.class,
        () -> HfConfig.read(dir.resolve("absent.json")));
    assertTrue(none.getMessage().contains("no such file"), none.getMessage());
  }

  private static String refusal(String json) {
    return assertThrows(CheckpointFormatException.class, () -> HfConfig.parse(FILE, json)).getMessage();
  }

  private static void assertNames(String msg, String... parts) {
    assertTrue(msg.startsWith(FILE.toString()), "names the file: " + msg);
    for (String p : parts) {
      assertTrue(msg.contains(p), "'" + p + "' in: " + msg);
    }
  }

  @Test
  void t5V10ReluIsRefused() {
    assertNames(refusal(T5_V11_BASE.replace("gated-gelu", "relu")), "'feed_forward_proj'", "\"relu\"",
        "expected \"gated-gelu\"", "T5 v1.0");
    assertNames(refusal(T5_V11_BASE.replace("\"feed_forward_proj\": \"gated-gelu\",", "")), "'feed_forward_proj'",
        "absent", "\"relu\"", "expected \"gated-gelu\"");
  }

  @Test
  void tiedEmbeddingsAreRefused() {
    assertNames(refusal(T5_V11_BASE.replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true")),
        "'tie_word_embeddings'", "is true", "expected false");
    assertNames(refusal(T5_V11_BASE.replace(",\n  \"tie_word_embeddings\": false", "")), "'tie_word_embeddings'",
        "absent (transformers' default true)");
  }

  @Test
  void anEncoderOnlyT5IsRefused() {
    assertNames(refusal(T5_V11_BASE.replace("T5ForConditionalGeneration", "T5EncoderModel")), "'architectures'",
        "T5EncoderModel", "T5ForConditionalGeneration");
  }

  @Test
  void aViTModelWithAPoolerIsRefused() {
    assertNames(refusal(vitBase().replace("ViTForImageClassification", "ViTModel")), "'architectures'",
        "[\"ViTModel\"]", "pooler", "ViTForImageClassification");
  }

  @Test
  void otherVitSettingsOurGraphCannotHoldAreRefused() {
    assertNames(refusal(vitBase().replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"relu\"")), "'hidden_act'",
        "\"relu\"", "gelu");
    assertNames(refusal(vitBase().replace("\"qkv_bias\": true", "\"qkv_bias\": false")), "'qkv_bias'", "false");
    assertNames(refusal(vitBase().replace("\"model_type\": \"vit\"", "\"model_type\": \"vit\", \"num_labels\": 10")),
        "'num_labels'", "10", "1000 entries of id2label");
    assertNames(refusal(vitBase().replace("\"patch_size\": 16", "\"patch_size\": 15")), "sizes our ViT cannot take",
        "patchSize 15");
  }

  @Test
  void otherModelTypesAndBadValuesAreRefused() {
    assertNames(refusal(T5_V11_BASE.replace("\"model_type\": \"t5\"", "\"model_type\": \"bart\"")), "'model_type'",
        "\"bart\"", "t5");
    assertNames(refusal(T5_V11_BASE.replace("\"d_model\": 768", "\"d_model\": \"768\"")), "'d_model'", "\"768\"",
        "a positive integer");
    assertNames(refusal(T5_V11_BASE.replace("\"dropout_rate\": 0.1", "\"dropout_rate\": 1.5")), "'dropout_rate'",
        "1.5");
    assertNames(refusal("[1, 2]"), "expected a JSON object");
    assertNames(refusal("{\"model_type\": "), "not valid JSON");
  }
}
