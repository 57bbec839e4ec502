package dev.upcycle.model.moe;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tensorflow.Tensor;

/** Reads fetched tensors into flat Java arrays (tests only). */
public final class Fetch {

  private Fetch() {}

  public static double[] doubles(Tensor t) {
    ByteBuffer b = bytes(t);
    int n = (int) t.shape().size();
    double[] out = new double[n];
    switch (t.dataType()) {
      case DT_FLOAT -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getFloat(i * 4);
        }
      }
      case DT_DOUBLE -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getDouble(i * 8);
        }
      }
      case DT_INT32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getInt(i * 4);
        }
      }
      default -> throw new IllegalArgumentException("unsupported " + t.dataType());
    }
    return out;
  }

  public static int[] ints(Tensor t) {
    double[] d = doubles(t);
    int[] out = new int[d.length];
    for (int i = 0; i < d.length; i++) {
      out[i] = (int) d[i];
    }
    return out;
  }

  private static ByteBuffer bytes(Tensor t) {
    byte[] raw = new byte[(int) t.numBytes()];
    t.asRawTensor().data().read(raw);
    return ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
  }
}
