package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.HfModuleKind.CONV_BIAS;
import static dev.upcycle.ckpt.hf.HfModuleKind.LAYER_NORM;
import static dev.upcycle.ckpt.hf.HfModuleKind.LINEAR_BIAS;
import static dev.upcycle.ckpt.hf.HfModuleKind.PARAMETER;
import static dev.upcycle.ckpt.hf.HfModuleRow.encoder;
import static dev.upcycle.ckpt.hf.HfModuleRow.once;

import dev.upcycle.ckpt.hf.HfNameTable.Refused;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Hugging Face ViT ({@code ViTForImageClassification}, {@code FlaxViTForImageClassification})
 * module names ↔ canonical ViT names (DESIGN.md §3), as a table. The attention projections are
 * [d, d] (heads·dKv = d) in both, with biases; the MLP is {@code intermediate.dense} →
 * {@code mlp/wi} and {@code output.dense} → {@code mlp/wo}. A {@code pooler} (from
 * {@code ViTModel}, which has no classifier) is refused: the classifier reads the final-norm [CLS]
 * token, and our graph has no pooler.
 */
public final class HfVitNames {

  /** The naming label of this table. */
  public static final String NAMING = "hf-vit";

  private static final String POOLER_REASON = "a ViTModel pooler (dense + tanh over [CLS]); our ViT classifies the"
      + " final-norm [CLS] token with no pooler, as ViTForImageClassification does";

  private static final String L = "vit.encoder.layer.{i}.";
  private static final String C = "encoder/layers_{i}/";

  private static final List<HfModuleRow> MODULES = List.of(
      once("vit.embeddings.cls_token", PARAMETER, "cls"),
      once("vit.embeddings.position_embeddings", PARAMETER, "pos_embedding"),
      once("vit.embeddings.patch_embeddings.projection", CONV_BIAS, "embedding"),
      encoder(L + "layernorm_before", LAYER_NORM, C + "pre_attention_layer_norm"),
      encoder(L + "attention.attention.query", LINEAR_BIAS, C + "attention/query"),
      encoder(L + "attention.attention.key", LINEAR_BIAS, C + "attention/key"),
      encoder(L + "attention.attention.value", LINEAR_BIAS, C + "attention/value"),
      encoder(L + "attention.output.dense", LINEAR_BIAS, C + "attention/out"),
      encoder(L + "layernorm_after", LAYER_NORM, C + "pre_mlp_layer_norm"),
      encoder(L + "intermediate.dense", LINEAR_BIAS, C + "mlp/wi"),
      encoder(L + "output.dense", LINEAR_BIAS, C + "mlp/wo"),
      once("vit.layernorm", LAYER_NORM, "encoder/encoder_norm"),
      once("classifier", LINEAR_BIAS, "head"));

  private HfVitNames() {}

  /** The table for {@code dialect}. */
  public static HfNameTable table(HfDialect dialect) {
    String sep = Pattern.quote(String.valueOf(dialect.separator()));
    List<Refused> refused = List.of(new Refused(Pattern.compile("(vit" + sep + ")?pooler" + sep + ".*"),
        POOLER_REASON));
    return new HfNameTable(NAMING, dialect, HfModuleRow.rows(MODULES, dialect), List.of(), refused);
  }
}
