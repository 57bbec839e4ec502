package dev.upcycle.model.graph;

import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * One model variable: its canonical name, static shape, the resource handle, the single read of it
 * that every builder uses (gradients are taken with respect to this read), its initializer op, and
 * a placeholder + load op pair that loads a value fed from Java. An expert variable of an
 * expert-parallel graph is stored in {@code parts} (one resource variable per expert shard, see
 * {@link PartedVariable}); it then has no single {@code handle} (null), and {@code value},
 * {@code initOp}, {@code loadValue} and {@code loadOp} are those of the canonical tensor.
 *
 * <p>Shape arrays are not copied for speed; callers must not modify them.
 *
 * @param parts the per-shard parts; null for a variable stored whole
 */
public record ModelVariable<T extends TFloating>(
    String name,
    long[] shape,
    Operand<? extends TType> handle,
    Operand<T> value,
    Op initOp,
    Placeholder<T> loadValue,
    Op loadOp,
    PartedVariable<T> parts) {

  /** A variable stored whole. */
  public ModelVariable(String name, long[] shape, Operand<? extends TType> handle, Operand<T> value, Op initOp,
      Placeholder<T> loadValue, Op loadOp) {
    this(name, shape, handle, value, initOp, loadValue, loadOp, null);
  }

  /** A variable stored in parts. */
  public static <T extends TFloating> ModelVariable<T> parted(String name, PartedVariable<T> parts, long[] shape) {
    return new ModelVariable<>(name, shape, null, parts.value(), parts.initOp(), parts.loadValue(), parts.loadOp(),
        parts);
  }

  public boolean isParted() {
    return parts != null;
  }

  /** Writes {@code newValue} (the variable's shape) into the variable, or each part its rows. */
  public Op assign(Ops tf, Operand<T> newValue) {
    return parts == null ? tf.assignVariableOp(handle, newValue) : parts.assign(tf, newValue);
  }

  public long numElements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
