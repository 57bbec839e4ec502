package dev.upcycle.model.testing;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * Java arrays ⇄ TF tensors for tests. Arrays are flat, row-major (last axis fastest). In every
 * {@code of(values, shape...)} an omitted shape means a vector {@code [values.length]}; use
 * {@code scalar(...)} for rank 0. The caller closes the returned tensors.
 */
public final class Tensors {

  private Tensors() {}

  /** A float32 tensor of {@code shape} holding {@code values} (row-major). */
  public static TFloat32 of(float[] values, long... shape) {
    return TFloat32.tensorOf(shapeOf(values.length, shape), DataBuffers.of(values, true, false));
  }

  /** A float64 tensor of {@code shape} holding {@code values} (row-major). */
  public static TFloat64 of(double[] values, long... shape) {
    return TFloat64.tensorOf(shapeOf(values.length, shape), DataBuffers.of(values, true, false));
  }

  /** An int32 tensor of {@code shape} holding {@code values} (row-major). */
  public static TInt32 of(int[] values, long... shape) {
    return TInt32.tensorOf(shapeOf(values.length, shape), DataBuffers.of(values, true, false));
  }

  /** An int64 tensor of {@code shape} holding {@code values} (row-major). */
  public static TInt64 of(long[] values, long... shape) {
    return TInt64.tensorOf(shapeOf(values.length, shape), DataBuffers.of(values, true, false));
  }

  /** A float32 tensor from doubles (each rounded to the nearest float). */
  public static TFloat32 float32(double[] values, long... shape) {
    return of(toFloats(values), shape);
  }

  /**
   * A tensor of {@code dtype} (TFloat32, TFloat64, TInt32 or TInt64) from doubles; integer types
   * require integral values.
   */
  public static <T extends TType> T ofDoubles(Class<T> dtype, double[] values, long... shape) {
    Tensor t;
    if (dtype == TFloat64.class) {
      t = of(values, shape);
    } else if (dtype == TFloat32.class) {
      t = float32(values, shape);
    } else if (dtype == TInt32.class) {
      int[] ints = new int[values.length];
      for (int i = 0; i < values.length; i++) {
        checkArgument(values[i] == (int) values[i], "value %s at %s is not an int32", values[i], (Object) i);
        ints[i] = (int) values[i];
      }
      t = of(ints, shape);
    } else if (dtype == TInt64.class) {
      long[] longs = new long[values.length];
      for (int i = 0; i < values.length; i++) {
        checkArgument(values[i] == (long) values[i], "value %s at %s is not an int64", values[i], (Object) i);
        longs[i] = (long) values[i];
      }
      t = of(longs, shape);
    } else {
      throw new IllegalArgumentException("unsupported dtype " + dtype.getSimpleName());
    }
    return dtype.cast(t);
  }

  /** A rank-0 float32 tensor. */
  public static TFloat32 scalar(float value) {
    return TFloat32.scalarOf(value);
  }

  /** A rank-0 float64 tensor. */
  public static TFloat64 scalar(double value) {
    return TFloat64.scalarOf(value);
  }

  /** A rank-0 int32 tensor. */
  public static TInt32 scalar(int value) {
    return TInt32.scalarOf(value);
  }

  /** A rank-0 int64 tensor. */
  public static TInt64 scalar(long value) {
    return TInt64.scalarOf(value);
  }

  /** The values of a TFloat32 or TFloat64 tensor as floats (float64 rounded). */
  public static float[] toFloats(Tensor tensor) {
    if (tensor instanceof TFloat32 f) {
      float[] out = new float[size(tensor)];
      f.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
    return toFloats(toDoubles(tensor));
  }

  /** The values of a TFloat32, TFloat64, TInt32 or TInt64 tensor as doubles. */
  public static double[] toDoubles(Tensor tensor) {
    int n = size(tensor);
    if (tensor instanceof TFloat64 d) {
      double[] out = new double[n];
      d.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
    double[] out = new double[n];
    if (tensor instanceof TFloat32) {
      float[] f = toFloats(tensor);
      for (int i = 0; i < n; i++) {
        out[i] = f[i];
      }
    } else {
      long[] l = toLongs(tensor);
      for (int i = 0; i < n; i++) {
        out[i] = l[i];
      }
    }
    return out;
  }

  /** The values of a TInt32 tensor, or of a TInt64 tensor whose values all fit in an int. */
  public static int[] toInts(Tensor tensor) {
    int n = size(tensor);
    int[] out = new int[n];
    if (tensor instanceof TInt32 i32) {
      i32.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
    long[] l = toLongs(tensor);
    for (int i = 0; i < n; i++) {
      checkArgument(l[i] == (int) l[i], "value %s at %s does not fit in an int", l[i], (Object) i);
      out[i] = (int) l[i];
    }
    return out;
  }

  /** The values of a TInt32 or TInt64 tensor as longs. */
  public static long[] toLongs(Tensor tensor) {
    int n = size(tensor);
    long[] out = new long[n];
    if (tensor instanceof TInt64 i64) {
      i64.copyTo(DataBuffers.of(out, false, false));
    } else if (tensor instanceof TInt32 i32) {
      int[] ints = new int[n];
      i32.copyTo(DataBuffers.of(ints, false, false));
      for (int i = 0; i < n; i++) {
        out[i] = ints[i];
      }
    } else {
      throw new IllegalArgumentException(
          "expected an int32 or int64 tensor, got " + tensor.dataType() + " " + tensor.shape());
    }
    return out;
  }

  /** The single value of a size-1 numeric tensor (any rank). */
  public static double scalarValue(Tensor tensor) {
    checkArgument(
        tensor.shape().size() == 1, "expected one value, got shape %s", tensor.shape());
    return toDoubles(tensor)[0];
  }

  /** The dimensions of a tensor (empty for a scalar). */
  public static long[] shape(Tensor tensor) {
    return tensor.shape().asArray();
  }

  /** Doubles rounded to floats. */
  public static float[] toFloats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  /** Floats widened to doubles. */
  public static double[] toDoubles(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  private static int size(Tensor tensor) {
    long n = tensor.shape().size();
    checkArgument(n <= Integer.MAX_VALUE, "tensor of shape %s is too large for an array", tensor.shape());
    checkArgument(n >= 0, "tensor shape %s is not fully known", tensor.shape());
    return (int) n;
  }

  private static Shape shapeOf(int length, long... shape) {
    if (shape.length == 0) {
      return Shape.of(length);
    }
    long n = 1;
    for (long d : shape) {
      checkArgument(d >= 0, "negative dimension in shape %s", Arrays.toString(shape));
      n *= d;
    }
    checkArgument(
        n == length,
        "shape %s holds %s values but %s were given",
        Arrays.toString(shape),
        n,
        length);
    return Shape.of(shape);
  }
}
