package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.hf.HfNameTable.Repeat;
import dev.upcycle.ckpt.hf.HfNameTable.Row;
import java.util.ArrayList;
import java.util.List;

/**
 * One Hugging Face module ↔ one canonical prefix, written once for both dialects: {@code module}
 * is the module path spelled with {@code .} ({@code encoder.block.{i}.layer.0.SelfAttention.q});
 * {@link #rows} spells it for a dialect and expands it into one {@link Row} per parameter.
 */
record HfModuleRow(Repeat repeat, String module, HfModuleKind kind, String canonical) {

  HfModuleRow {
    checkNotNull(repeat, "repeat of %s", module);
    checkNotNull(module, "module");
    checkNotNull(kind, "kind of %s", module);
    checkNotNull(canonical, "canonical name of %s", module);
  }

  static HfModuleRow once(String module, HfModuleKind kind, String canonical) {
    return new HfModuleRow(Repeat.ONCE, module, kind, canonical);
  }

  static HfModuleRow encoder(String module, HfModuleKind kind, String canonical) {
    return new HfModuleRow(Repeat.ENCODER_LAYERS, module, kind, canonical);
  }

  static HfModuleRow decoder(String module, HfModuleKind kind, String canonical) {
    return new HfModuleRow(Repeat.DECODER_LAYERS, module, kind, canonical);
  }

  /** This module's parameters as table rows in {@code dialect}. */
  List<Row> rows(HfDialect dialect) {
    String base = module.replace('.', dialect.separator());
    List<Row> out = new ArrayList<>();
    for (HfModuleKind.Leaf leaf : kind.leaves(dialect)) {
      String stored = leaf.stored().isEmpty() ? base : base + dialect.separator() + leaf.stored();
      String target = leaf.canonical().isEmpty() ? canonical : canonical + "/" + leaf.canonical();
      out.add(new Row(repeat, stored, target, leaf.layout()));
    }
    return out;
  }

  /** Every module's rows in {@code dialect}, in order. */
  static List<Row> rows(List<HfModuleRow> modules, HfDialect dialect) {
    List<Row> out = new ArrayList<>();
    for (HfModuleRow m : modules) {
      out.addAll(m.rows(dialect));
    }
    return out;
  }
}
