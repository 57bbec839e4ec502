package dev.upcycle.ckpt.tf;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Builds small {@link RawTensor}s from Java arrays for tests (little-endian, C order). */
final class Tensors {

  private Tensors() {}

  static RawTensor f32(String name, long[] shape, float... v) {
    ByteBuffer b = alloc(v.length * 4);
    for (float x : v) {
      b.putFloat(x);
    }
    return new RawTensor(new TensorInfo(name, DType.FLOAT32, shape), b.flip());
  }

  static RawTensor f64(String name, long[] shape, double... v) {
    ByteBuffer b = alloc(v.length * 8);
    for (double x : v) {
      b.putDouble(x);
    }
    return new RawTensor(new TensorInfo(name, DType.FLOAT64, shape), b.flip());
  }

  static RawTensor i32(String name, long[] shape, int... v) {
    ByteBuffer b = alloc(v.length * 4);
    for (int x : v) {
      b.putInt(x);
    }
    return new RawTensor(new TensorInfo(name, DType.INT32, shape), b.flip());
  }

  static RawTensor i64(String name, long[] shape, long... v) {
    ByteBuffer b = alloc(v.length * 8);
    for (long x : v) {
      b.putLong(x);
    }
    return new RawTensor(new TensorInfo(name, DType.INT64, shape), b.flip());
  }

  /** bfloat16 from floats that bfloat16 holds exactly (the upper 16 bits of the float32). */
  static RawTensor bf16(String name, long[] shape, float... v) {
    ByteBuffer b = alloc(v.length * 2);
    for (float x : v) {
      int bits = Float.floatToRawIntBits(x);
      if ((bits & 0xFFFF) != 0) {
        throw new IllegalArgumentException(x + " is not exact in bfloat16");
      }
      b.putShort((short) (bits >>> 16));
    }
    return new RawTensor(new TensorInfo(name, DType.BFLOAT16, shape), b.flip());
  }

  /** Deterministic pseudo-random floats (an LCG, so the values do not depend on a library). */
  static float[] floats(int n, long seed) {
    float[] out = new float[n];
    long s = seed;
    for (int i = 0; i < n; i++) {
      s = s * 6364136223846793005L + 1442695040888963407L;
      out[i] = ((s >>> 40) / (float) (1 << 24)) * 2f - 1f;
    }
    return out;
  }

  static long[] shape(long... dims) {
    return dims;
  }

  private static ByteBuffer alloc(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }
}
