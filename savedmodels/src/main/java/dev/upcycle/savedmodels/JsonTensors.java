package dev.upcycle.savedmodels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Dense tensors as TF Serving's REST API writes them: nested JSON lists, one nesting level per
 * dimension, values at the innermost level (float32 as JSON numbers, int32/int64 as integers).
 * The shape of a value is read from the first element at each level and every list is checked
 * against it, as TF Serving does.
 */
final class JsonTensors {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** Largest integer a float32 holds exactly (2^24 - 1), TF Serving's limit for integers fed as float. */
  private static final long FLOAT_EXACT_INT = (1L << 24) - 1;

  private JsonTensors() {}

  /** One signature input or output: its key, dtype and shape ({@code -1} = any size; null = unknown rank). */
  record Spec(String key, DataType dtype, long[] dims) {

    static Spec of(String key, TensorInfo info) {
      TensorShapeProto shape = info.getTensorShape();
      long[] dims = shape.getUnknownRank() ? null
          : shape.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
      return new Spec(key, info.getDtype(), dims);
    }

    /** {@code float32 [-1,28,28,1]}. */
    String describe() {
      return typeName(dtype) + " " + (dims == null ? "[?]" : shapeString(dims));
    }

    /** Refuses a fed shape that differs from the signature's in rank or a known dimension. */
    void checkShape(long[] shape, String where) {
      if (dims == null) {
        return;
      }
      boolean ok = shape.length == dims.length;
      for (int i = 0; ok && i < dims.length; i++) {
        ok = dims[i] < 0 || dims[i] == shape[i];
      }
      if (!ok) {
        throw new IllegalArgumentException(where + ": input '" + key + "' has shape " + shapeString(shape)
            + ", but the signature expects " + describe() + " (-1 = any size)");
      }
    }
  }

  /** Values of one input being assembled: a flat row-major array of the spec's dtype. */
  static final class Values {
    final DataType dtype;
    final float[] floats;
    final int[] ints;
    final long[] longs;
    private int next;

    Values(DataType dtype, long size) {
      checkSupported(dtype);
      if (size > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("a request tensor of " + size + " values is too large");
      }
      this.dtype = dtype;
      int n = (int) size;
      floats = dtype == DataType.DT_FLOAT ? new float[n] : null;
      ints = dtype == DataType.DT_INT32 ? new int[n] : null;
      longs = dtype == DataType.DT_INT64 ? new long[n] : null;
    }

    void add(JsonNode v) {
      switch (dtype) {
        case DT_FLOAT -> floats[next++] = toFloat(v);
        case DT_INT32 -> {
          if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw typeError(v, dtype);
          }
          ints[next++] = v.intValue();
        }
        default -> {
          if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw typeError(v, dtype);
          }
          longs[next++] = v.longValue();
        }
      }
    }

    /** A new tensor of {@code shape} holding the values (the caller closes it). */
    Tensor toTensor(long[] shape) {
      Shape s = Shape.of(shape);
      return switch (dtype) {
        case DT_FLOAT -> TFloat32.tensorOf(s, DataBuffers.of(floats, true, false));
        case DT_INT32 -> TInt32.tensorOf(s, DataBuffers.of(ints, true, false));
        default -> TInt64.tensorOf(s, DataBuffers.of(longs, true, false));
      };
    }
  }

  /** The shape of a nested list, read from the first element at each level ({@code []} for a scalar). */
  static long[] shapeOf(JsonNode v) {
    List<Long> dims = new ArrayList<>();
    for (JsonNode n = v; n.isArray(); n = n.get(0)) {
      dims.add((long) n.size());
      if (n.isEmpty()) {
        break;
      }
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * TensorFlow's highest tensor rank ({@code TensorShape::MaxDimensions}); a tensor of more
   * dimensions is not an error it returns but a fatal check that aborts the process.
   */
  static final int MAX_RANK = 254;

  /**
   * Refuses a fed tensor of more than {@link #MAX_RANK} dimensions (a request nested 255 lists deep
   * fits the nesting limit; RestPredictFuzzTest, seed 7, found it aborting the JVM).
   */
  static void checkRank(String key, long[] shape) {
    if (shape.length > MAX_RANK) {
      throw new IllegalArgumentException("input '" + key + "' has " + shape.length + " dimensions; TensorFlow"
          + " tensors have at most " + MAX_RANK);
    }
  }

  /** The number of values of {@code shape}; one that overflows a long is refused. */
  static long size(long[] shape) {
    long n = 1;
    for (long d : shape) {
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("a request tensor of shape " + shapeString(shape) + " is too large", e);
      }
    }
    return n;
  }

  /**
   * Appends the values of {@code v} (of shape {@code shape}) to {@code out}; ragged lists and
   * misplaced values fail. With {@code out} null it only checks that {@code v} has that shape, which
   * callers do before they allocate: the shape is read from first elements, so a small ragged request
   * ({@code [[1, ...46340 values], 1, 1, ...]}) can claim billions of values it does not hold.
   */
  static void fill(JsonNode v, long[] shape, Values out) {
    fill(v, 0, shape, out);
  }

  private static void fill(JsonNode v, int level, long[] shape, Values out) {
    if (!v.isArray()) {
      if (level != shape.length) {
        throw new IllegalArgumentException("JSON Value: " + brief(v) + " found at incorrect level: " + (level + 1)
            + " in the JSON DOM. Expected at level: " + shape.length);
      }
      if (out != null) {
        out.add(v);
      }
      return;
    }
    if (level >= shape.length) {
      throw new IllegalArgumentException("Encountered list at unexpected level: " + level + " expected < "
          + shape.length);
    }
    if (v.size() != shape[level]) {
      throw new IllegalArgumentException("Encountered list at unexpected size: " + v.size() + " at level: " + level
          + " expected size: " + shape[level] + " (all lists at one level must have the same length)");
    }
    for (JsonNode e : v) {
      fill(e, level + 1, shape, out);
    }
  }

  /** An output tensor's values, read once; written whole or one row (along dim 0) at a time. */
  static final class Output {
    private final long[] shape;
    private final float[] floats;
    private final long[] longs;

    /** Copies the values of {@code t} (output {@code key}, for messages). */
    Output(String key, Tensor t) {
      checkSupported(key, t.dataType());
      shape = t.shape().asArray();
      int n = (int) t.shape().size();
      switch (t.dataType()) {
        case DT_FLOAT -> {
          floats = new float[n];
          longs = null;
          t.asRawTensor().data().asFloats().read(floats);
        }
        case DT_INT32 -> {
          int[] ints = new int[n];
          t.asRawTensor().data().asInts().read(ints);
          floats = null;
          longs = Arrays.stream(ints).asLongStream().toArray();
        }
        default -> {
          floats = null;
          longs = new long[n];
          t.asRawTensor().data().asLongs().read(longs);
        }
      }
    }

    long[] shape() {
      return shape.clone();
    }

    /** The whole tensor as nested lists (a bare number for a scalar). */
    JsonNode whole() {
      return write(0, new int[] {0});
    }

    /** Row {@code i} along dim 0 (rank ≥ 1). */
    JsonNode row(int i) {
      int rowSize = (int) (size(shape) / shape[0]);
      return write(1, new int[] {i * rowSize});
    }

    private JsonNode write(int level, int[] offset) {
      if (level == shape.length) {
        int i = offset[0]++;
        return floats != null ? NODES.numberNode(floats[i]) : NODES.numberNode(longs[i]);
      }
      ArrayNode a = NODES.arrayNode((int) shape[level]);
      for (long i = 0; i < shape[level]; i++) {
        a.add(write(level + 1, offset));
      }
      return a;
    }
  }

  private static float toFloat(JsonNode v) {
    if (!v.isNumber()) {
      throw typeError(v, DataType.DT_FLOAT);
    }
    if (v.isIntegralNumber()) {
      if (!v.canConvertToLong() || Math.abs(v.longValue()) > FLOAT_EXACT_INT) {
        throw lossy(v);
      }
      return v.longValue();
    }
    double d = v.doubleValue();
    if (Double.isFinite(d) && Math.abs(d) > Float.MAX_VALUE) {
      throw lossy(v);
    }
    return (float) d;
  }

  private static IllegalArgumentException lossy(JsonNode v) {
    return new IllegalArgumentException("Cannot convert JSON value: " + brief(v) + " to float without loss of precision.");
  }

  private static IllegalArgumentException typeError(JsonNode v, DataType dtype) {
    String type = switch (v.getNodeType()) {
      case ARRAY -> "Array";
      case OBJECT, POJO -> "Object";
      case STRING, BINARY -> "String";
      case NUMBER -> "Number";
      case BOOLEAN -> v.booleanValue() ? "True" : "False";
      default -> "Null";
    };
    return new IllegalArgumentException("JSON Value: " + brief(v) + " Type: " + type + " is not of expected type: "
        + typeName(dtype));
  }

  static String typeName(DataType dtype) {
    return switch (dtype) {
      case DT_FLOAT -> "float32";
      case DT_INT32 -> "int32";
      case DT_INT64 -> "int64";
      default -> dtype.name();
    };
  }

  static String shapeString(long[] shape) {
    return Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(",", "[", "]"));
  }

  /** A JSON value for a message, cut to 80 characters. */
  static String brief(JsonNode v) {
    String s = v.toString();
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private static void checkSupported(DataType dtype) {
    if (dtype != DataType.DT_FLOAT && dtype != DataType.DT_INT32 && dtype != DataType.DT_INT64) {
      throw new IllegalArgumentException("Conversion of JSON to type: " + typeName(dtype)
          + " is not supported (float32, int32, int64 are)");
    }
  }

  private static void checkSupported(String key, DataType dtype) {
    if (dtype != DataType.DT_FLOAT && dtype != DataType.DT_INT32 && dtype != DataType.DT_INT64) {
      throw new IllegalArgumentException("output '" + key + "' has type " + typeName(dtype)
          + ", which cannot be written as JSON here (float32, int32, int64 can)");
    }
  }
}
