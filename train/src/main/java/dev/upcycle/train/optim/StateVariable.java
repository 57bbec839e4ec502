package dev.upcycle.train.optim;

import org.tensorflow.Operand;
import org.tensorflow.op.core.AssignVariableOp;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.family.TType;

/**
 * One optimizer-state resource variable: canonical name, element type, static shape, handle, the
 * single read that update ops use, a zero initializer, and a placeholder + assign pair for loading.
 */
public record StateVariable<T extends TType>(
    String name,
    Class<T> type,
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
