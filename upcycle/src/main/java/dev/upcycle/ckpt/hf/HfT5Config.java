package dev.upcycle.ckpt.hf;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.layers.Norms;
import java.util.ArrayList;
import java.util.List;

/**
 * The T5 keys of a Hugging Face {@code config.json} and the defaults transformers' {@code T5Config}
 * gives them when absent (the defaults are those of {@code T5Config.__init__}; absent
 * {@code feed_forward_proj} is "relu" and absent {@code tie_word_embeddings} is true, both refused).
 */
final class HfT5Config {

  /** The {@code model_type} values read as T5 v1.1 (mT5 is the same graph with another vocabulary). */
  static final List<String> MODEL_TYPES = List.of("t5", "mt5");
  /** The {@code architectures} entries with the full encoder-decoder and {@code lm_head}. */
  static final List<String> ARCHITECTURES = List.of("T5ForConditionalGeneration", "MT5ForConditionalGeneration");
  /** The only {@code feed_forward_proj} our graph holds. */
  static final String GATED_GELU = "gated-gelu";

  private static final int D_MODEL = 512;
  private static final int D_FF = 2048;
  private static final int NUM_HEADS = 8;
  private static final int D_KV = 64;
  private static final int NUM_LAYERS = 6;
  private static final int VOCAB_SIZE = 32128;
  private static final int BUCKETS = 32;
  private static final int MAX_DISTANCE = 128;
  private static final double DROPOUT = 0.1;
  private static final double LAYER_NORM_EPSILON = 1e-6;
  private static final String FEED_FORWARD_PROJ = "relu";
  private static final boolean TIE_WORD_EMBEDDINGS = true;

  private HfT5Config() {}

  static HfConfig parse(HfJson keys) throws CheckpointFormatException {
    List<String> architectures = keys.strings("architectures");
    if (!architectures.isEmpty() && architectures.stream().noneMatch(ARCHITECTURES::contains)) {
      throw keys.refuse("architectures", "one of " + ARCHITECTURES
          + " (the encoder, the decoder and an untied lm_head)");
    }
    String ff = keys.string("feed_forward_proj", FEED_FORWARD_PROJ);
    if (!ff.equals(GATED_GELU)) {
      String why = ff.equals("relu") ? "T5 v1.0 (ReLU MLP) is not read" : "other MLPs are not read";
      String expected = "\"" + GATED_GELU + "\": our graph is the gated-GELU T5 v1.1 one; " + why;
      throw keys.has("feed_forward_proj") ? keys.refuse("feed_forward_proj", expected)
          : keys.absent("feed_forward_proj", "\"" + FEED_FORWARD_PROJ + "\"", expected);
    }
    boolean tied = keys.bool("tie_word_embeddings", TIE_WORD_EMBEDDINGS);
    if (tied) {
      String expected = "false: T5 v1.1 unties lm_head from shared (a tied T5 also scales the decoder output by"
          + " d_model^-0.5, which our graph does not)";
      throw keys.has("tie_word_embeddings") ? keys.refuse("tie_word_embeddings", expected)
          : keys.absent("tie_word_embeddings", "true", expected);
    }
    int layers = keys.positiveInt("num_layers", NUM_LAYERS);
    T5Config arch;
    try {
      arch = new T5Config(
          keys.positiveInt("d_model", D_MODEL),
          keys.positiveInt("d_ff", D_FF),
          keys.positiveInt("num_heads", NUM_HEADS),
          keys.positiveInt("d_kv", D_KV),
          layers,
          keys.positiveInt("num_decoder_layers", layers),
          keys.positiveInt("vocab_size", VOCAB_SIZE),
          keys.positiveInt("relative_attention_num_buckets", BUCKETS),
          keys.positiveInt("relative_attention_max_distance", MAX_DISTANCE),
          keys.rate("dropout_rate", DROPOUT));
    } catch (IllegalArgumentException e) {
      throw new CheckpointFormatException(keys.file(), null, "sizes our T5 cannot take: " + e.getMessage(), e);
    }
    List<String> notes = new ArrayList<>();
    double eps = keys.positive("layer_norm_epsilon", LAYER_NORM_EPSILON);
    if (eps != Norms.EPSILON) {
      notes.add("layer_norm_epsilon is " + eps + "; our RMS norm adds " + Norms.EPSILON);
    }
    return new HfConfig(keys.file(), HfT5Names.NAMING, arch, notes);
  }
}
