package dev.upcycle.ckpt.names;

import dev.upcycle.model.names.CanonicalNames;
import java.util.ArrayList;
import java.util.List;

/**
 * Mesh-TensorFlow T5 v1.1 variable names → canonical T5X names (DESIGN.md §3, PAPER.md §4(a)), as
 * a table. Blocks are 3-digit zero-padded in Mesh-TF ({@code block_007}) and plain integers in
 * canonical names ({@code layers_7}); the regex {@link #BLOCK} does that with no code. Each
 * parameter row also yields its Adafactor slot rules: {@code <var>_slot_vr}, {@code _slot_vc} and
 * {@code _slot_v} map to {@code state/param_states/<canonical>/v_row}, {@code v_col} and {@code v}.
 * Canonical names carry no {@code target/} prefix.
 */
public final class MeshTfNames {

  /** Matches {@code block_NNN} (exactly 3 digits); group 1 is the number without leading zeros. */
  public static final String BLOCK = "block_(?=\\d{3}/)0{0,2}(\\d+)";

  private static final String E = "encoder/" + BLOCK;
  private static final String D = "decoder/" + BLOCK;

  /** {Mesh-TF regex, canonical target}: parameters with Adafactor slots. */
  private static final String[][] PARAMS = {
      {"shared/embedding", "token_embedder/embedding"},
      {"(encoder|decoder)/block_000/layer_000/SelfAttention/relative_attention_bias", "$1/relpos_bias/rel_embedding"},
      {E + "/layer_000/SelfAttention/q", "encoder/layers_$1/attention/query/kernel"},
      {E + "/layer_000/SelfAttention/k", "encoder/layers_$1/attention/key/kernel"},
      {E + "/layer_000/SelfAttention/v", "encoder/layers_$1/attention/value/kernel"},
      {E + "/layer_000/SelfAttention/o", "encoder/layers_$1/attention/out/kernel"},
      {E + "/layer_000/rms_norm/scale", "encoder/layers_$1/pre_attention_layer_norm/scale"},
      {E + "/layer_001/DenseReluDense/(wi_0|wi_1|wi|wo)/kernel", "encoder/layers_$1/mlp/$2/kernel"},
      {E + "/layer_001/rms_norm/scale", "encoder/layers_$1/pre_mlp_layer_norm/scale"},
      {D + "/layer_000/SelfAttention/q", "decoder/layers_$1/self_attention/query/kernel"},
      {D + "/layer_000/SelfAttention/k", "decoder/layers_$1/self_attention/key/kernel"},
      {D + "/layer_000/SelfAttention/v", "decoder/layers_$1/self_attention/value/kernel"},
      {D + "/layer_000/SelfAttention/o", "decoder/layers_$1/self_attention/out/kernel"},
      {D + "/layer_000/rms_norm/scale", "decoder/layers_$1/pre_self_attention_layer_norm/scale"},
      {D + "/layer_001/EncDecAttention/q", "decoder/layers_$1/encoder_decoder_attention/query/kernel"},
      {D + "/layer_001/EncDecAttention/k", "decoder/layers_$1/encoder_decoder_attention/key/kernel"},
      {D + "/layer_001/EncDecAttention/v", "decoder/layers_$1/encoder_decoder_attention/value/kernel"},
      {D + "/layer_001/EncDecAttention/o", "decoder/layers_$1/encoder_decoder_attention/out/kernel"},
      {D + "/layer_001/rms_norm/scale", "decoder/layers_$1/pre_cross_attention_layer_norm/scale"},
      {D + "/layer_002/DenseReluDense/(wi_0|wi_1|wi|wo)/kernel", "decoder/layers_$1/mlp/$2/kernel"},
      {D + "/layer_002/rms_norm/scale", "decoder/layers_$1/pre_mlp_layer_norm/scale"},
      {"encoder/rms_norm/scale", "encoder/encoder_norm/scale"},
      {"decoder/rms_norm/scale", "decoder/decoder_norm/scale"},
      {"decoder/logits/kernel", "decoder/logits_dense/kernel"},
  };

  /** {Mesh-TF slot suffix, canonical slot name}. */
  private static final String[][] SLOTS = {
      {"_slot_vr", CanonicalNames.V_ROW},
      {"_slot_vc", CanonicalNames.V_COL},
      {"_slot_v", CanonicalNames.V},
  };

  /** {Mesh-TF regex, canonical target}: variables without slots. */
  private static final String[][] OTHERS = {
      {"global_step", CanonicalNames.STEP},
  };

  private static final NameMap MAP = build();

  private MeshTfNames() {}

  /** The Mesh-TF T5 v1.1 → canonical map (parameters, their Adafactor slots, {@code global_step}). */
  public static NameMap nameMap() {
    return MAP;
  }

  private static NameMap build() {
    List<NameMap.Rule> rules = new ArrayList<>();
    for (String[] row : PARAMS) {
      rules.add(NameMap.Rule.map(row[0], row[1]));
      for (String[] slot : SLOTS) {
        rules.add(NameMap.Rule.map(row[0] + slot[0], CanonicalNames.slot(row[1], slot[1])));
      }
    }
    for (String[] row : OTHERS) {
      rules.add(NameMap.Rule.map(row[0], row[1]));
    }
    return NameMap.of(rules);
  }
}
