package dev.upcycle.savedmodels.rest;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.ByteDataBuffer;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * A tensor held in Java memory between JSON and TensorFlow, the role of a {@code TensorProto} in TF
 * Serving: a dtype, a shape and the values in row-major order. Floating-point values are kept as
 * doubles (exact for float32), integers and booleans as longs (booleans 0/1), strings as bytes. An
 * output of a dtype whose values TF Serving does not write (half, complex64, ...) keeps its dtype and
 * shape only ({@link #hasValues()} is false).
 */
public final class HostTensor {

  /** How the values of a dtype are held. */
  enum Kind { REAL, INTEGER, STRING, NONE }

  private final DataType dtype;
  private final long[] shape;
  private final double[] reals;
  private final long[] integers;
  private final byte[][] strings;

  private HostTensor(DataType dtype, long[] shape, double[] reals, long[] integers, byte[][] strings) {
    this.dtype = dtype;
    this.shape = shape;
    this.reals = reals;
    this.integers = integers;
    this.strings = strings;
  }

  static Kind kind(DataType dtype) {
    return switch (dtype) {
      case DT_FLOAT, DT_DOUBLE -> Kind.REAL;
      case DT_INT32, DT_INT16, DT_INT8, DT_UINT8, DT_INT64, DT_BOOL, DT_UINT32, DT_UINT64 -> Kind.INTEGER;
      case DT_STRING -> Kind.STRING;
      default -> Kind.NONE;
    };
  }

  public DataType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  int rank() {
    return shape.length;
  }

  long dim(int i) {
    return shape[i];
  }

  /**
   * TensorFlow's highest tensor rank ({@code TensorShape::MaxDimensions}). A tensor of more
   * dimensions is not an error TensorFlow returns but a fatal check that aborts the process, so
   * {@link #checkRank} refuses it first.
   */
  static final int MAX_RANK = 254;

  /** Number of values: the product of the shape. */
  long size() {
    return size(shape);
  }

  /**
   * The product of {@code shape}, computed with overflow checks.
   *
   * @throws RestError INVALID_ARGUMENT (TensorFlow's message) for a shape whose value count
   *     overflows a long
   */
  static long size(long[] shape) {
    long n = 1;
    for (long d : shape) {
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw RestError.invalid("Shape " + TfTypes.shape(shape) + " is too large (more than 2**63 - 1 entries)");
      }
    }
    return n;
  }

  /**
   * Refuses a tensor of more than {@link #MAX_RANK} dimensions for input {@code name} (a request
   * nested 255 lists deep fits {@link RestJson#MAX_NESTING_DEPTH}; TensorFlow aborted the JVM on it).
   *
   * @throws RestError INVALID_ARGUMENT
   */
  static void checkRank(String name, long[] shape) {
    if (shape.length > MAX_RANK) {
      throw RestError.invalid("input '" + name + "' has " + shape.length + " dimensions; TensorFlow tensors have"
          + " at most " + MAX_RANK);
    }
  }

  boolean hasValues() {
    return reals != null || integers != null || strings != null;
  }

  /** Value {@code i} of a float/double tensor. */
  double real(int i) {
    return reals[i];
  }

  /** Value {@code i} of an integer or bool tensor (uint64 as its two's-complement long). */
  long integer(int i) {
    return integers[i];
  }

  /** Value {@code i} of a string tensor. */
  byte[] string(int i) {
    return strings[i];
  }

  /** A float32 tensor, for tests and callers that have values at hand. */
  public static HostTensor ofFloats(long[] shape, float... values) {
    checkArgument(size(shape) == values.length, "shape %s holds %s values, got %s", Arrays.toString(shape),
        size(shape), values.length);
    double[] d = new double[values.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = values[i];
    }
    return new HostTensor(DataType.DT_FLOAT, shape.clone(), d, null, null);
  }

  /** A tensor of {@code dtype} with the given values (the array of its {@link Kind}; null for NONE). */
  static HostTensor of(DataType dtype, long[] shape, Object values) {
    long n = size(shape);
    Kind kind = kind(dtype);
    int length = switch (kind) {
      case REAL -> ((double[]) values).length;
      case INTEGER -> ((long[]) values).length;
      case STRING -> ((byte[][]) values).length;
      case NONE -> (int) n;
    };
    checkArgument(length == n, "a %s tensor of shape %s holds %s values, got %s", TfTypes.name(dtype),
        TfTypes.shape(shape), n, length);
    return new HostTensor(dtype, shape.clone(), kind == Kind.REAL ? (double[]) values : null,
        kind == Kind.INTEGER ? (long[]) values : null, kind == Kind.STRING ? (byte[][]) values : null);
  }

  /**
   * A new TensorFlow tensor holding these values (the caller closes it).
   *
   * @throws RestError INVALID_ARGUMENT for more than {@link #MAX_RANK} dimensions ({@link #checkRank})
   * @throws RestError UNIMPLEMENTED for int8, int16, uint32 and uint64, which TF Serving feeds but TF
   *     Java 1.1.0 has no tensor class for
   */
  Tensor toTensor(String name) {
    checkRank(name, shape);
    Shape s = Shape.of(shape);
    int n = (int) size();
    switch (dtype) {
      case DT_FLOAT -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) reals[i];
        }
        return TFloat32.tensorOf(s, DataBuffers.of(f, true, false));
      }
      case DT_DOUBLE -> {
        return TFloat64.tensorOf(s, DataBuffers.of(reals, true, false));
      }
      case DT_INT32 -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = (int) integers[i];
        }
        return TInt32.tensorOf(s, DataBuffers.of(v, true, false));
      }
      case DT_INT64 -> {
        return TInt64.tensorOf(s, DataBuffers.of(integers, true, false));
      }
      case DT_UINT8 -> {
        byte[] v = new byte[n];
        for (int i = 0; i < n; i++) {
          v[i] = (byte) integers[i]; // TensorFlow's FromProto: static_cast<uint8> of int_val
        }
        return TUint8.tensorOf(s, DataBuffers.of(v, true, false));
      }
      case DT_BOOL -> {
        boolean[] v = new boolean[n];
        for (int i = 0; i < n; i++) {
          v[i] = integers[i] != 0;
        }
        return TBool.tensorOf(s, DataBuffers.of(v, true, false));
      }
      case DT_STRING -> {
        return TString.tensorOfBytes(s, DataBuffers.ofObjects(strings));
      }
      default -> throw new RestError(TfCode.UNIMPLEMENTED, "input '" + name + "' is of type " + TfTypes.name(dtype)
          + ", which TensorFlow Java 1.1.0 cannot make tensors of (TF Serving can)");
    }
  }

  /** Copies the shape and values of {@code t} (a tensor of any dtype; values only for the dtypes of {@link #kind}). */
  static HostTensor of(Tensor t) {
    checkNotNull(t, "tensor");
    DataType dtype = t.dataType();
    long[] shape = t.shape().asArray();
    int n = (int) t.shape().size();
    ByteDataBuffer data = dtype == DataType.DT_STRING ? null : t.asRawTensor().data();
    switch (dtype) {
      case DT_FLOAT -> {
        float[] f = new float[n];
        data.asFloats().read(f);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
          d[i] = f[i];
        }
        return of(dtype, shape, d);
      }
      case DT_DOUBLE -> {
        double[] d = new double[n];
        data.asDoubles().read(d);
        return of(dtype, shape, d);
      }
      case DT_INT32 -> {
        int[] v = new int[n];
        data.asInts().read(v);
        return of(dtype, shape, Arrays.stream(v).asLongStream().toArray());
      }
      case DT_INT64 -> {
        long[] v = new long[n];
        data.asLongs().read(v);
        return of(dtype, shape, v);
      }
      case DT_UINT8 -> {
        byte[] b = new byte[n];
        data.read(b);
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
          v[i] = b[i] & 0xFF;
        }
        return of(dtype, shape, v);
      }
      case DT_BOOL -> {
        boolean[] b = new boolean[n];
        data.asBooleans().read(b);
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
          v[i] = b[i] ? 1 : 0;
        }
        return of(dtype, shape, v);
      }
      case DT_STRING -> {
        byte[][] v = new byte[n][];
        int[] next = {0};
        ((TString) t).asBytes().scalars().forEach(s -> v[next[0]++] = s.getObject());
        return of(dtype, shape, v);
      }
      default -> {
        return new HostTensor(dtype, shape, null, null, null); // dtype and shape only
      }
    }
  }
}
