package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.HfTensorLayout.OIHW_TO_HWIO;
import static dev.upcycle.ckpt.hf.HfTensorLayout.SAME;
import static dev.upcycle.ckpt.hf.HfTensorLayout.TRANSPOSE_2D;

import java.util.List;

/**
 * The kinds of Hugging Face modules the name tables hold, and the parameters each stores in each
 * {@link HfDialect}: the stored leaf name, the canonical leaf and the layout between them. A
 * canonical leaf of {@code ""} means the row's canonical name is the whole name (embeddings,
 * the class token). PyTorch {@code nn.Linear.weight} is [out, in] and is transposed; Flax
 * {@code nn.Dense} kernels are [in, out] already; Flax {@code nn.Conv} kernels are HWIO already.
 */
public enum HfModuleKind {
  /** {@code nn.Linear(bias=False)} / {@code nn.Dense(use_bias=False)} → {@code kernel}. */
  LINEAR(List.of(new Leaf("weight", "kernel", TRANSPOSE_2D)),
      List.of(new Leaf("kernel", "kernel", SAME))),
  /** A linear layer with a bias → {@code kernel}, {@code bias}. */
  LINEAR_BIAS(List.of(new Leaf("weight", "kernel", TRANSPOSE_2D), new Leaf("bias", "bias", SAME)),
      List.of(new Leaf("kernel", "kernel", SAME), new Leaf("bias", "bias", SAME))),
  /** T5's RMS norm ({@code T5LayerNorm}, scale only; {@code weight} in both dialects) → {@code scale}. */
  RMS_NORM(List.of(new Leaf("weight", "scale", SAME)),
      List.of(new Leaf("weight", "scale", SAME))),
  /** {@code nn.LayerNorm} (torch {@code weight|bias}, Flax {@code scale|bias}) → {@code scale}, {@code bias}. */
  LAYER_NORM(List.of(new Leaf("weight", "scale", SAME), new Leaf("bias", "bias", SAME)),
      List.of(new Leaf("scale", "scale", SAME), new Leaf("bias", "bias", SAME))),
  /** An embedding table [rows, features] kept as it is ({@code nn.Embedding.weight} / {@code nn.Embed.embedding}). */
  EMBEDDING(List.of(new Leaf("weight", "", SAME)),
      List.of(new Leaf("embedding", "", SAME))),
  /** T5's relative attention bias, an embedding [buckets, heads] → {@code rel_embedding} [heads, buckets]. */
  RELATIVE_BIAS(List.of(new Leaf("weight", "", TRANSPOSE_2D)),
      List.of(new Leaf("embedding", "", TRANSPOSE_2D))),
  /** A patch convolution with bias: torch OIHW [d, C, p, p] → HWIO [p, p, C, d]; Flax HWIO already. */
  CONV_BIAS(List.of(new Leaf("weight", "kernel", OIHW_TO_HWIO), new Leaf("bias", "bias", SAME)),
      List.of(new Leaf("kernel", "kernel", SAME), new Leaf("bias", "bias", SAME))),
  /** A bare parameter (ViT {@code cls_token}, {@code position_embeddings}): the module path is the name. */
  PARAMETER(List.of(new Leaf("", "", SAME)),
      List.of(new Leaf("", "", SAME)));

  /** One stored parameter of a module: stored leaf ("" = none), canonical leaf ("" = none), layout. */
  public record Leaf(String stored, String canonical, HfTensorLayout layout) {}

  private final List<Leaf> torch;
  private final List<Leaf> flax;

  HfModuleKind(List<Leaf> torch, List<Leaf> flax) {
    this.torch = torch;
    this.flax = flax;
  }

  /** The parameters this module stores in {@code dialect}. */
  public List<Leaf> leaves(HfDialect dialect) {
    return dialect == HfDialect.TORCH ? torch : flax;
  }
}
