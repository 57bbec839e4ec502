package dev.upcycle.train.optim;

import dev.upcycle.model.graph.PartedVariable;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.family.TType;

/**
 * One optimizer-state resource variable: canonical name, element type, static shape, handle, the
 * single read that update ops use, a zero initializer, and a placeholder + load op pair for
 * loading. The slot of an expert variable stored in parts is stored in parts too, on the same
 * shards ({@link StateStore#slot}); it then has no single {@code handle} (null) and its
 * {@code value}, {@code initOp}, {@code loadValue}, {@code loadOp} are those of the canonical tensor.
 *
 * @param parts the per-shard parts; null for a variable stored whole
 */
public record StateVariable<T extends TType>(
    String name,
    Class<T> type,
    long[] shape,
    Operand<? extends TType> handle,
    Operand<T> value,
    Op initOp,
    Placeholder<T> loadValue,
    Op loadOp,
    PartedVariable<T> parts) {

  /** Writes {@code newValue} into the variable, or each part its rows. */
  public Op assign(Ops tf, Operand<T> newValue) {
    return parts == null ? tf.assignVariableOp(handle, newValue) : parts.assign(tf, newValue);
  }

  public boolean isParted() {
    return parts != null;
  }

  public long numElements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
