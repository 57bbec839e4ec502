package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;

/**
 * Name, element type and shape of one tensor in a checkpoint. The shape array is copied in and out.
 */
public record TensorInfo(String name, DType dtype, long[] shape) {

  public TensorInfo {
    checkNotNull(name, "name");
    checkNotNull(dtype, "dtype of %s", name);
    checkNotNull(shape, "shape of %s", name);
    shape = shape.clone();
    for (long d : shape) {
      checkArgument(d >= 0, "tensor %s has a negative dimension in shape %s", name, Arrays.toString(shape));
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long numElements() {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Bytes of the dense little-endian payload; -1 for strings. */
  public long byteSize() {
    return dtype.byteSize() < 0 ? -1 : Math.multiplyExact(numElements(), dtype.byteSize());
  }

  public TensorInfo withName(String newName) {
    return new TensorInfo(newName, dtype, shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape) + dtype.hashCode();
  }

  @Override
  public String toString() {
    return name + " " + dtype.numpyName() + Arrays.toString(shape);
  }
}
