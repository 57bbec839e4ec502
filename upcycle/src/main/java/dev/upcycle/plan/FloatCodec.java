package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.ckpt.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Floating-point elements of little-endian tensor bytes as doubles and back, for float32, float64,
 * bfloat16 and float16. Every value of those types is exact as a double, so decoding then encoding
 * an unchanged value gives the same bits; encoding rounds to nearest even.
 */
public final class FloatCodec {

  private FloatCodec() {}

  /** Elements {@code [from, from + n)} of {@code src} (absolute element indices). */
  public static double[] decode(ByteBuffer src, DType dtype, long from, int n) {
    checkArgument(dtype.isFloating(), "dtype %s is not floating point", dtype);
    ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int size = dtype.byteSize();
    int base = Math.toIntExact(b.position() + from * size);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      int at = base + i * size;
      out[i] = switch (dtype) {
        case FLOAT32 -> b.getFloat(at);
        case FLOAT64 -> b.getDouble(at);
        case BFLOAT16 -> Float.intBitsToFloat((b.getShort(at) & 0xffff) << 16);
        case FLOAT16 -> halfToFloat(b.getShort(at));
        default -> throw new AssertionError(dtype);
      };
    }
    return out;
  }

  /** Writes {@code v} as elements {@code [from, from + v.length)} of {@code dst} (absolute indices). */
  public static void encode(double[] v, DType dtype, ByteBuffer dst, long from) {
    checkArgument(dtype.isFloating(), "dtype %s is not floating point", dtype);
    ByteBuffer b = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int size = dtype.byteSize();
    int base = Math.toIntExact(b.position() + from * size);
    for (int i = 0; i < v.length; i++) {
      int at = base + i * size;
      switch (dtype) {
        case FLOAT32 -> b.putFloat(at, (float) v[i]);
        case FLOAT64 -> b.putDouble(at, v[i]);
        case BFLOAT16 -> b.putShort(at, floatToBfloat16((float) v[i]));
        case FLOAT16 -> b.putShort(at, floatToHalf((float) v[i]));
        default -> throw new AssertionError(dtype);
      }
    }
  }

  /** Round to nearest even; NaN stays NaN. */
  public static short floatToBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  public static float bfloat16ToFloat(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  /** IEEE binary16 → float. */
  public static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** float → IEEE binary16, round to nearest even, overflow to infinity. */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    float a = Math.abs(f);
    if (Float.isNaN(f)) {
      return (short) (sign | 0x7e00);
    }
    if (a >= 65520f) {
      return (short) (sign | 0x7c00);
    }
    if (a < 0x1p-14f) {
      // subnormal: value = mant * 2^-24
      int mant = (int) Math.rint(a * 0x1p24f);
      return (short) (sign | mant);
    }
    int abits = Float.floatToRawIntBits(a);
    int exp = ((abits >>> 23) & 0xff) - 112;
    int mant = abits & 0x7fffff;
    int half = (exp << 10) | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || rest == 0x1000 && (half & 1) == 1) {
      half++;
    }
    return (short) (sign | half);
  }
}
