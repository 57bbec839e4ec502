package dev.upcycle.ckpt.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.layers.Norms;
import java.util.ArrayList;
import java.util.List;

/**
 * The ViT keys of a Hugging Face {@code config.json} and the defaults transformers' {@code ViTConfig}
 * gives them when absent. The classes come from {@code id2label} (or {@code num_labels}; 2 when
 * neither is there, as in transformers). Our ViT always pools the [CLS] token here, as
 * {@code ViTForImageClassification} does.
 */
final class HfVitConfig {

  static final String MODEL_TYPE = "vit";
  /** The architecture our graph holds: a classifier on the final-norm [CLS] token, no pooler. */
  static final String CLASSIFIER = "ViTForImageClassification";
  /** {@code hidden_act} values our GELU MLP reads; "gelu" is the exact (erf) one, the others tanh. */
  static final List<String> GELUS = List.of("gelu", "gelu_new", "gelu_pytorch_tanh");
  static final String EXACT_GELU = "gelu";

  private static final int HIDDEN_SIZE = 768;
  private static final int LAYERS = 12;
  private static final int HEADS = 12;
  private static final int INTERMEDIATE_SIZE = 3072;
  private static final String HIDDEN_ACT = "gelu";
  private static final double DROPOUT = 0.0;
  private static final double LAYER_NORM_EPS = 1e-12;
  private static final int IMAGE_SIZE = 224;
  private static final int PATCH_SIZE = 16;
  private static final int CHANNELS = 3;
  private static final boolean QKV_BIAS = true;
  private static final int NUM_LABELS = 2;

  private HfVitConfig() {}

  static HfConfig parse(HfJson keys) throws CheckpointFormatException {
    List<String> architectures = keys.strings("architectures");
    if (architectures.contains("ViTModel")) {
      throw keys.refuse("architectures", "[\"" + CLASSIFIER + "\"]: a ViTModel has a pooler and"
          + " no classifier; our ViT classifies the final-norm [CLS] token with no pooler");
    }
    if (!architectures.isEmpty() && !architectures.contains(CLASSIFIER)) {
      throw keys.refuse("architectures", "[\"" + CLASSIFIER + "\"]");
    }
    String act = keys.string("hidden_act", HIDDEN_ACT);
    if (!GELUS.contains(act)) {
      throw keys.refuse("hidden_act", "one of " + GELUS + ": our ViT MLP is a GELU one");
    }
    if (!keys.bool("qkv_bias", QKV_BIAS)) {
      throw keys.refuse("qkv_bias", "true: our ViT attention has query, key and value biases");
    }
    int classes = classes(keys);
    double dropout = keys.rate("hidden_dropout_prob", DROPOUT);
    VitConfig arch;
    try {
      arch = new VitConfig(
          keys.squareSize("image_size", IMAGE_SIZE),
          keys.squareSize("patch_size", PATCH_SIZE),
          keys.positiveInt("num_channels", CHANNELS),
          classes,
          keys.positiveInt("hidden_size", HIDDEN_SIZE),
          keys.positiveInt("intermediate_size", INTERMEDIATE_SIZE),
          keys.positiveInt("num_attention_heads", HEADS),
          keys.positiveInt("num_hidden_layers", LAYERS),
          VitConfig.Pooling.CLS,
          dropout);
    } catch (IllegalArgumentException e) {
      throw new CheckpointFormatException(keys.file(), null, "sizes our ViT cannot take: " + e.getMessage(), e);
    }
    List<String> notes = new ArrayList<>();
    if (act.equals(EXACT_GELU)) {
      notes.add("hidden_act is \"gelu\", the exact (erf) GELU; our ViT MLP uses the tanh approximation");
    }
    double eps = keys.positive("layer_norm_eps", LAYER_NORM_EPS);
    if (eps != Norms.EPSILON) {
      notes.add("layer_norm_eps is " + eps + "; our LayerNorm adds " + Norms.EPSILON);
    }
    double attentionDropout = keys.rate("attention_probs_dropout_prob", DROPOUT);
    if (attentionDropout != dropout) {
      notes.add("attention_probs_dropout_prob is " + attentionDropout + "; our ViT uses hidden_dropout_prob "
          + dropout + " for attention weights too");
    }
    return new HfConfig(keys.file(), HfVitNames.NAMING, arch, notes);
  }

  /** The number of classes: the size of {@code id2label}, or {@code num_labels}; both must agree. */
  private static int classes(HfJson keys) throws CheckpointFormatException {
    Integer fromLabels = null;
    if (keys.has("id2label")) {
      JsonNode labels = keys.node("id2label");
      if (!labels.isObject() || labels.size() < 2) {
        throw keys.refuse("id2label", "an object of at least 2 labels (our head has 2 or more classes)");
      }
      fromLabels = labels.size();
    }
    if (keys.has("num_labels")) {
      int n = keys.positiveInt("num_labels", NUM_LABELS);
      if (fromLabels != null && n != fromLabels) {
        throw keys.refuse("num_labels", "the " + fromLabels + " entries of id2label");
      }
      return n;
    }
    return fromLabels != null ? fromLabels : NUM_LABELS;
  }
}
