package dev.upcycle.model.graph;

import org.tensorflow.Operand;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.AssignVariableOp;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * One model variable: its canonical name, static shape, the resource handle, the single read of it
 * that every builder uses (gradients are taken with respect to this read), its initializer op, and
 * a placeholder + assign pair that loads a value fed from Java.
 *
 * <p>Shape arrays are not copied for speed; callers must not modify them.
 */
public record ModelVariable<T extends TFloating>(
    String name,
    long[] shape,
    Operand<? extends TType> handle,
    Operand<T> value,
    AssignVariableOp initOp,
    Placeholder<T> loadValue,
    AssignVariableOp loadOp) {

  public long numElements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
