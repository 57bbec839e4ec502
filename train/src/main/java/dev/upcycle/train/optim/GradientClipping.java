package dev.upcycle.train.optim;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/** Global gradient norm and clipping by it, as graph ops. */
public final class GradientClipping {

  private GradientClipping() {}

  /** {@code sqrt(Σ_i Σ g_i²)} over all gradients (scalar). */
  public static <T extends TFloating> Operand<T> globalNorm(Ops tf, List<Operand<T>> grads) {
    Ops s = tf.withSubScope("global_norm");
    Operand<T> total = null;
    for (Operand<T> g : grads) {
      Operand<T> sq = s.reduceSum(s.math.square(g), allAxes(s, g));
      total = total == null ? sq : s.math.add(total, sq);
    }
    return s.math.sqrt(total);
  }

  /**
   * Each gradient times {@code min(1, maxNorm / norm)}; gradients pass unchanged when
   * {@code maxNorm <= 0} (clipping off).
   */
  public static <T extends TFloating> List<Operand<T>> clipByGlobalNorm(Ops tf, List<Operand<T>> grads,
      Operand<T> norm, double maxNorm, Class<T> dtype) {
    if (maxNorm <= 0) {
      return grads;
    }
    Ops s = tf.withSubScope("clip");
    Operand<T> max = Optimizer.constant(s, maxNorm, dtype);
    Operand<T> scale = s.math.minimum(Optimizer.constant(s, 1, dtype),
        s.math.div(max, s.math.maximum(norm, Optimizer.constant(s, 1e-30, dtype))));
    List<Operand<T>> out = new ArrayList<>();
    for (Operand<T> g : grads) {
      out.add(s.math.mul(g, scale));
    }
    return out;
  }

  static Operand<org.tensorflow.types.TInt32> allAxes(Ops tf, Operand<?> x) {
    int rank = x.shape().numDimensions();
    int[] axes = new int[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return tf.constant(axes);
  }
}
