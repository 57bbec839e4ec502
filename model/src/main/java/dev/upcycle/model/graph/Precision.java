package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.family.TFloating;

/**
 * The mixed-precision policy (config key {@code precision}), the ONE place where compute casts are
 * decided. {@link #FLOAT32}: everything in the graph's dtype. {@link #BFLOAT16} (flaxformer's
 * "selective precision", Switch Transformer §2.4): the operands of every matmul and batch matmul
 * (dense layers, attention, patch embedding, the experts) are cast to bfloat16 and the product is cast
 * back to the master dtype, so weights (the variables), optimizer state, router math (the router's
 * logits, softmax and top-k stay float32, as flaxformer casts router inputs to float32), the
 * attention softmax, norms and the losses stay float32, and checkpoints stay float32. XLA fuses the
 * casts into the neighbouring ops, so a compiled step keeps bfloat16 operands in the matmuls and
 * float32 elsewhere; the gradients flow back through the casts in the same precisions.
 */
public enum Precision {
  FLOAT32, BFLOAT16;

  /** The config spelling: {@code float32}, {@code bfloat16}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code float32} or {@code bfloat16}. */
  public static Precision parse(String text) {
    checkNotNull(text, "precision");
    String t = text.trim().toLowerCase(Locale.ROOT);
    for (Precision p : values()) {
      if (p.configName().equals(t)) {
        return p;
      }
    }
    throw new IllegalArgumentException("precision must be one of " + Arrays.stream(values())
        .map(Precision::configName).collect(Collectors.joining(", ")) + ", got '" + text + "'");
  }

  /** {@code a · b} ([m, k] × [k, n] → [m, n]) under this policy, in {@code dtype}. */
  public <T extends TFloating> Operand<T> matMul(Ops tf, Operand<T> a, Operand<T> b, Class<T> dtype) {
    if (this == FLOAT32) {
      return tf.linalg.matMul(a, b);
    }
    return tf.dtypes.cast(tf.linalg.matMul(low(tf, a), low(tf, b)), dtype);
  }

  /**
   * Batched {@code a · b} ({@code [..., m, k] × [..., k, n]}; {@code adjY} = b transposed in its last
   * two axes) under this policy, in {@code dtype}.
   */
  public <T extends TFloating> Operand<T> batchMatMul(Ops tf, Operand<T> a, Operand<T> b, Class<T> dtype,
      boolean adjY) {
    if (this == FLOAT32) {
      return tf.train.batchMatMul(a, b, dtype, BatchMatMul.adjY(adjY));
    }
    return tf.dtypes.cast(tf.train.batchMatMul(low(tf, a), low(tf, b), TBfloat16.class, BatchMatMul.adjY(adjY)),
        dtype);
  }

  /** {@link #batchMatMul(Ops, Operand, Operand, Class, boolean)} without transposes. */
  public <T extends TFloating> Operand<T> batchMatMul(Ops tf, Operand<T> a, Operand<T> b, Class<T> dtype) {
    return batchMatMul(tf, a, b, dtype, false);
  }

  private static Operand<TBfloat16> low(Ops tf, Operand<? extends TFloating> x) {
    return tf.dtypes.cast(x, TBfloat16.class);
  }
}
