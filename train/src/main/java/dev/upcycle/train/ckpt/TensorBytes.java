package dev.upcycle.train.ckpt;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * Converts between TF tensors and checkpoint {@link RawTensor}s (little-endian bytes), converting
 * element types where a checkpoint stores another precision than the graph uses: floating types
 * among each other (bfloat16 / float16 / float32 / float64) and integer or integral floating values
 * into int32 / int64 (the step counter).
 */
public final class TensorBytes {

  private TensorBytes() {}

  public static DType dtypeOf(Class<? extends TType> type) {
    if (type == TFloat32.class) {
      return DType.FLOAT32;
    }
    if (type == TFloat64.class) {
      return DType.FLOAT64;
    }
    if (type == TInt32.class) {
      return DType.INT32;
    }
    if (type == TInt64.class) {
      return DType.INT64;
    }
    if (type == TBfloat16.class) {
      return DType.BFLOAT16;
    }
    if (type == TFloat16.class) {
      return DType.FLOAT16;
    }
    throw new IllegalArgumentException("unsupported tensor type " + type.getSimpleName());
  }

  /** The checkpoint dtype of a tensor. */
  public static DType dtypeOf(Tensor t) {
    DType d = DType.fromTfEnum(t.dataType().getNumber());
    checkArgument(d != null && d != DType.STRING, "unsupported tensor type %s", t.dataType());
    return d;
  }

  /** The tensor's bytes under {@code name} (copied; the tensor stays the caller's). */
  public static RawTensor toRaw(String name, Tensor t) {
    byte[] bytes = new byte[(int) t.numBytes()];
    t.asRawTensor().data().read(bytes);
    return new RawTensor(new TensorInfo(name, dtypeOf(t), t.shape().asArray()), ByteBuffer.wrap(bytes));
  }

  /**
   * A tensor of {@code type} holding {@code raw}'s values, converted when the stored type differs.
   * Throws naming the tensor when the values cannot be represented (a non-integral step, ...).
   */
  @SuppressWarnings("unchecked")
  public static <T extends TType> T toTensor(RawTensor raw, Class<T> type) {
    DType want = dtypeOf(type);
    Shape shape = Shape.of(raw.info().shape());
    DType have = raw.info().dtype();
    ByteBuffer in = raw.data();
    if (have == want) {
      byte[] bytes = new byte[in.remaining()];
      in.get(bytes);
      return Tensor.of(type, shape, DataBuffers.of(bytes, true, false));
    }
    int n = (int) raw.info().numElements();
    ByteBuffer out = ByteBuffer.allocate(n * want.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      double v = read(in, have, raw.name());
      switch (want) {
        case FLOAT32 -> out.putFloat((float) v);
        case FLOAT64 -> out.putDouble(v);
        case INT32, INT64 -> {
          checkArgument(v == Math.rint(v) && Math.abs(v) < (want == DType.INT32 ? 2147483648.0 : 9.2e18),
              "tensor %s: value %s cannot be stored as %s", raw.name(), v, want.numpyName());
          if (want == DType.INT32) {
            out.putInt((int) v);
          } else {
            out.putLong((long) v);
          }
        }
        case BFLOAT16 -> out.putShort((short) (Float.floatToIntBits((float) v) >>> 16));
        default -> throw new IllegalArgumentException("tensor " + raw.name() + ": cannot convert to " + want);
      }
    }
    return Tensor.of(type, shape, DataBuffers.of(out.array(), true, false));
  }

  /** IEEE 754 binary16 → float. */
  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits >>> 15) != 0 ? -1 : 1;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0) {
      return sign * mant * 0x1p-24f;
    }
    if (exp == 31) {
      return mant == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
    }
    return sign * (1 + mant / 1024f) * (float) Math.pow(2, exp - 15);
  }

  private static double read(ByteBuffer in, DType dtype, String name) {
    return switch (dtype) {
      case FLOAT32 -> in.getFloat();
      case FLOAT64 -> in.getDouble();
      case INT32 -> in.getInt();
      case INT64 -> in.getLong();
      case BFLOAT16 -> Float.intBitsToFloat((in.getShort() & 0xFFFF) << 16);
      case FLOAT16 -> halfToFloat(in.getShort());
      default -> throw new IllegalArgumentException("tensor " + name + ": cannot convert " + dtype.numpyName()
          + " values to the model's type");
    };
  }
}
