package dev.upcycle.ckpt.hf;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test-side layout changes written from the Hugging Face layout description (PyTorch
 * {@code nn.Linear.weight} is [out, in], {@code nn.Conv2d.weight} is [out, in, kh, kw]), with
 * plain index loops on float32 values, independent of {@link HfTensorLayout}.
 */
final class HfTestTensors {

  private HfTestTensors() {}

  static float[] floats(RawTensor t) {
    ByteBuffer b = t.data();
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  static RawTensor of(String name, long[] shape, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new RawTensor(new TensorInfo(name, dev.upcycle.ckpt.DType.FLOAT32, shape), b);
  }

  /** Our kernel [in, out] as a PyTorch Linear weight [out, in] (or rel_embedding [heads, buckets] → [buckets, heads]). */
  static RawTensor transposed(String name, RawTensor ours) {
    long[] s = ours.info().shape();
    int rows = (int) s[0];
    int cols = (int) s[1];
    float[] in = floats(ours);
    float[] out = new float[in.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = in[r * cols + c];
      }
    }
    return of(name, new long[] {cols, rows}, out);
  }

  /** Our patch kernel HWIO [p, p, C, d] as a PyTorch Conv2d weight [d, C, p, p]. */
  static RawTensor convWeight(String name, RawTensor hwio) {
    long[] s = hwio.info().shape();
    int kh = (int) s[0];
    int kw = (int) s[1];
    int ci = (int) s[2];
    int co = (int) s[3];
    float[] in = floats(hwio);
    float[] out = new float[in.length];
    for (int h = 0; h < kh; h++) {
      for (int w = 0; w < kw; w++) {
        for (int c = 0; c < ci; c++) {
          for (int o = 0; o < co; o++) {
            out[((o * ci + c) * kh + h) * kw + w] = in[((h * kw + w) * ci + c) * co + o];
          }
        }
      }
    }
    return of(name, new long[] {co, ci, kh, kw}, out);
  }
}
