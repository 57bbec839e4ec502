package dev.upcycle.model.layers;

import java.util.Arrays;
import org.tensorflow.Operand;

/** Static-shape helpers: the graphs are built with fully known shapes (one graph per batch shape). */
public final class Shapes {

  private Shapes() {}

  /** The static shape of {@code x}; throws when a dimension is unknown. */
  public static long[] of(Operand<?> x) {
    long[] s = x.shape().asArray();
    if (s == null) {
      throw new IllegalArgumentException("operand " + x + " has unknown rank; graphs need static shapes");
    }
    for (long d : s) {
      if (d < 0) {
        throw new IllegalArgumentException("operand " + x + " has an unknown dimension: " + Arrays.toString(s));
      }
    }
    return s;
  }

  public static long dim(Operand<?> x, int axis) {
    long[] s = of(x);
    return s[axis < 0 ? s.length + axis : axis];
  }

  public static long product(long[] s, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      p *= s[i];
    }
    return p;
  }
}
