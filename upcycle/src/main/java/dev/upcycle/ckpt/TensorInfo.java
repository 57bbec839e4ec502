package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.Objects;

/**
 * Name, element type and shape of one tensor in a checkpoint. The shape array is copied in and out.
 * {@code storedDtype} is null except for {@link DType#UNREADABLE} tensors, where it is the format's
 * own spelling of the type ({@code "F8_E4M3"}); see {@link #unreadable}.
 */
public record TensorInfo(String name, DType dtype, long[] shape, String storedDtype) {

  public TensorInfo {
    checkNotNull(name, "name");
    checkNotNull(dtype, "dtype of %s", name);
    checkNotNull(shape, "shape of %s", name);
    checkArgument(storedDtype == null || dtype == DType.UNREADABLE,
        "tensor %s: a stored dtype name ('%s') is only kept for unreadable tensors, not %s", name, storedDtype, dtype);
    shape = shape.clone();
    for (long d : shape) {
      checkArgument(d >= 0, "tensor %s has a negative dimension in shape %s", name, Arrays.toString(shape));
    }
    checkArgument(fitsInLong(shape, Math.max(1, dtype.byteSize())),
        "tensor %s: shape %s of %s has more elements or bytes than a 64-bit count holds (corrupt shape?)", name,
        Arrays.toString(shape), dtype.numpyName());
  }

  /** True when the product of {@code shape} (dims >= 0) and {@code itemSize} does not overflow a long. */
  private static boolean fitsInLong(long[] shape, long itemSize) {
    if (Arrays.stream(shape).anyMatch(d -> d == 0)) {
      return true;
    }
    long n = itemSize;
    for (long d : shape) {
      if (n > Long.MAX_VALUE / d) {
        return false;
      }
      n *= d;
    }
    return true;
  }

  public TensorInfo(String name, DType dtype, long[] shape) {
    this(name, dtype, shape, null);
  }

  /** A tensor a reader lists but cannot decode; {@code storedDtype} is the format's type name. */
  public static TensorInfo unreadable(String name, String storedDtype, long[] shape) {
    checkNotNull(storedDtype, "stored dtype of %s", name);
    return new TensorInfo(name, DType.UNREADABLE, shape, storedDtype);
  }

  /** The type name to show: {@link #storedDtype} for unreadable tensors, else the numpy name. */
  public String dtypeName() {
    return storedDtype != null ? storedDtype : dtype.numpyName();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** The product of the shape; it fits in a long (checked when the record is made). */
  public long numElements() {
    if (Arrays.stream(shape).anyMatch(d -> d == 0)) {
      return 0;
    }
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Bytes of the dense little-endian payload; -1 for strings and unreadable types. */
  public long byteSize() {
    return dtype.byteSize() < 0 ? -1 : Math.multiplyExact(numElements(), dtype.byteSize());
  }

  public TensorInfo withName(String newName) {
    return new TensorInfo(newName, dtype, shape, storedDtype);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
        && Objects.equals(t.storedDtype, storedDtype);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape) + dtype.hashCode() + Objects.hashCode(storedDtype);
  }

  @Override
  public String toString() {
    return name + " " + dtypeName() + Arrays.toString(shape);
  }
}
