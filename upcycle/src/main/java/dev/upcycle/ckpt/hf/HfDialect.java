package dev.upcycle.ckpt.hf;

/**
 * How a Hugging Face checkpoint spells its tensor names: a PyTorch state dict (safetensors,
 * {@code encoder.block.0.layer.0.SelfAttention.q.weight}, linear weights [out, in]) or a Flax
 * parameter tree flattened with {@code /} ({@code encoder/block/0/layer/0/SelfAttention/q/kernel},
 * kernels already [in, out]).
 */
public enum HfDialect {
  TORCH('.'),
  FLAX('/');

  private final char separator;

  HfDialect(char separator) {
    this.separator = separator;
  }

  /** The separator between the parts of a stored name. */
  public char separator() {
    return separator;
  }

  /** FLAX when any name holds a {@code /}, else TORCH. */
  public static HfDialect of(Iterable<String> storedNames) {
    for (String n : storedNames) {
      if (n.indexOf(FLAX.separator) >= 0) {
        return FLAX;
      }
    }
    return TORCH;
  }
}
