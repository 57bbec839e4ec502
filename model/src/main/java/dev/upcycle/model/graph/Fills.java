package dev.upcycle.model.graph;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TNumber;
import org.tensorflow.types.family.TType;

/**
 * Constant-filled tensors without TF Java's {@code Ops.zeros} / {@code Ops.ones}: those open a
 * sub-scope, and {@code withSubScope} walks every op of the graph, which made one call per
 * variable quadratic in the graph size (docs/model.md).
 */
public final class Fills {

  private Fills() {}

  /** Zeros of {@code type} with shape {@code dims} (a 1-D int32/int64 tensor). */
  public static <T extends TType> Operand<T> zeros(Ops tf, Operand<? extends TNumber> dims, Class<T> type) {
    return filled(tf, dims, 0, type);
  }

  /** Ones of {@code type} with shape {@code dims}. */
  public static <T extends TType> Operand<T> ones(Ops tf, Operand<? extends TNumber> dims, Class<T> type) {
    return filled(tf, dims, 1, type);
  }

  private static <T extends TType> Operand<T> filled(Ops tf, Operand<? extends TNumber> dims, int value,
      Class<T> type) {
    return tf.fill(dims, tf.dtypes.cast(tf.constant(value), type));
  }
}
