package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.HfModuleKind.EMBEDDING;
import static dev.upcycle.ckpt.hf.HfModuleKind.LINEAR;
import static dev.upcycle.ckpt.hf.HfModuleKind.RELATIVE_BIAS;
import static dev.upcycle.ckpt.hf.HfModuleKind.RMS_NORM;
import static dev.upcycle.ckpt.hf.HfModuleRow.decoder;
import static dev.upcycle.ckpt.hf.HfModuleRow.encoder;
import static dev.upcycle.ckpt.hf.HfModuleRow.once;

import dev.upcycle.ckpt.hf.HfNameTable.Duplicate;
import dev.upcycle.ckpt.hf.HfNameTable.Refused;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Hugging Face T5 v1.1 ({@code T5ForConditionalGeneration}, {@code FlaxT5ForConditionalGeneration})
 * module names ↔ canonical T5X names (DESIGN.md §3), as a table. In a block, {@code layer.0} is
 * self-attention, {@code layer.1} the encoder's MLP or the decoder's cross-attention and
 * {@code layer.2} the decoder's MLP; only block 0 of each stack holds the relative attention bias.
 * PyTorch state dicts also hold {@code encoder.embed_tokens.weight} and
 * {@code decoder.embed_tokens.weight}, the same tensor as {@code shared.weight}: they are dropped.
 */
public final class HfT5Names {

  /** The naming label of this table. */
  public static final String NAMING = "hf-t5";

  private static final String[][] ATTENTION = {{"q", "query"}, {"k", "key"}, {"v", "value"}, {"o", "out"}};
  private static final String[] MLP = {"wi_0", "wi_1", "wo"};

  private static final List<HfModuleRow> MODULES = modules();

  private static final String V10_REASON = "a T5 v1.0 MLP (one ReLU 'wi'); our graph is the gated-GELU T5 v1.1 one"
      + " (wi_0, wi_1, wo)";

  private HfT5Names() {}

  /** The table for {@code dialect}. */
  public static HfNameTable table(HfDialect dialect) {
    String sep = Pattern.quote(String.valueOf(dialect.separator()));
    List<Duplicate> duplicates = dialect == HfDialect.TORCH
        ? List.of(new Duplicate("encoder.embed_tokens.weight", "shared.weight"),
            new Duplicate("decoder.embed_tokens.weight", "shared.weight"))
        : List.of();
    List<Refused> refused = List.of(new Refused(
        Pattern.compile(".*" + sep + "DenseReluDense" + sep + "wi" + sep + "(weight|kernel)"), V10_REASON));
    return new HfNameTable(NAMING, dialect, HfModuleRow.rows(MODULES, dialect), duplicates, refused);
  }

  private static List<HfModuleRow> modules() {
    List<HfModuleRow> m = new ArrayList<>();
    m.add(once("shared", EMBEDDING, "token_embedder/embedding"));
    m.add(once("encoder.block.0.layer.0.SelfAttention.relative_attention_bias", RELATIVE_BIAS,
        "encoder/relpos_bias/rel_embedding"));
    String e = "encoder.block.{i}.layer.";
    String el = "encoder/layers_{i}/";
    for (String[] a : ATTENTION) {
      m.add(encoder(e + "0.SelfAttention." + a[0], LINEAR, el + "attention/" + a[1]));
    }
    m.add(encoder(e + "0.layer_norm", RMS_NORM, el + "pre_attention_layer_norm"));
    for (String w : MLP) {
      m.add(encoder(e + "1.DenseReluDense." + w, LINEAR, el + "mlp/" + w));
    }
    m.add(encoder(e + "1.layer_norm", RMS_NORM, el + "pre_mlp_layer_norm"));
    m.add(once("encoder.final_layer_norm", RMS_NORM, "encoder/encoder_norm"));

    m.add(once("decoder.block.0.layer.0.SelfAttention.relative_attention_bias", RELATIVE_BIAS,
        "decoder/relpos_bias/rel_embedding"));
    String d = "decoder.block.{i}.layer.";
    String dl = "decoder/layers_{i}/";
    for (String[] a : ATTENTION) {
      m.add(decoder(d + "0.SelfAttention." + a[0], LINEAR, dl + "self_attention/" + a[1]));
    }
    m.add(decoder(d + "0.layer_norm", RMS_NORM, dl + "pre_self_attention_layer_norm"));
    for (String[] a : ATTENTION) {
      m.add(decoder(d + "1.EncDecAttention." + a[0], LINEAR, dl + "encoder_decoder_attention/" + a[1]));
    }
    m.add(decoder(d + "1.layer_norm", RMS_NORM, dl + "pre_cross_attention_layer_norm"));
    for (String w : MLP) {
      m.add(decoder(d + "2.DenseReluDense." + w, LINEAR, dl + "mlp/" + w));
    }
    m.add(decoder(d + "2.layer_norm", RMS_NORM, dl + "pre_mlp_layer_norm"));
    m.add(once("decoder.final_layer_norm", RMS_NORM, "decoder/decoder_norm"));
    m.add(once("lm_head", LINEAR, "decoder/logits_dense"));
    return List.copyOf(m);
  }
}
