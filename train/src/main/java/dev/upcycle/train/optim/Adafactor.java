package dev.upcycle.train.optim;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.names.CanonicalNames;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.family.TFloating;

/**
 * Adafactor (Shazeer &amp; Stern 2018) with the T5X defaults. For a parameter {@code p}, gradient
 * {@code g}, update number {@code t} (1-based) and learning rate {@code lr}:
 *
 * <pre>
 *   β̂  = 1 - t^(-decayExponent)                      (0 at the first update)
 *   g² = g·g + eps1
 *   factored:   v_row ← β̂·v_row + (1-β̂)·mean(g², d0);  v_col ← β̂·v_col + (1-β̂)·mean(g², d1)
 *               u = g · rsqrt(v_row / mean(v_row, d1)) [bcast over d0] · rsqrt(v_col) [bcast over d1]
 *   otherwise:  v ← β̂·v + (1-β̂)·g²;  u = g · rsqrt(v)
 *   u ← u / max(1, rms(u) / clipThreshold)             (update clipping)
 *   s = lr · max(eps2, rms(p)) · u                     (multiplyByParameterScale; else lr · u)
 *   m ← β1·m + (1-β1)·s;  s = m                        (only when β1 > 0)
 *   p ← p - s
 * </pre>
 *
 * <p>Factoring applies to parameters of rank ≥ 2 over their last two axes; leading axes (the
 * expert axis 0 of {@code [E, d, d_ff]} kernels) are batch axes, as T5X contrib/moe treats them,
 * so each expert gets its own row/column statistics, update clipping and parameter scale. Of the
 * two factored axes, {@code d0} is the larger (the last one on a tie) and {@code d1} the other, as
 * in T5X: {@code v_row} is the mean over {@code d0} (shape without d0), {@code v_col} the mean over
 * {@code d1}. A parameter is factored only when its smaller factored dimension is at least
 * {@code minDimSizeToFactor} (T5X default 128); otherwise it keeps a full {@code v}. Slots are held
 * in the compute dtype.
 *
 * @param decayExponent 0.8
 * @param clipThreshold update clipping threshold on the RMS of the update (1.0; 0 = off)
 * @param eps1 added to squared gradients (1e-30)
 * @param eps2 lower bound of the parameter scale (1e-3)
 * @param beta1 momentum (0 = none, the T5X default)
 * @param multiplyByParameterScale scale the learning rate by {@code max(eps2, rms(p))} (true)
 * @param factored use factored second moments (true)
 * @param minDimSizeToFactor smallest factored dimension (128)
 */
public record Adafactor(
    double decayExponent,
    double clipThreshold,
    double eps1,
    double eps2,
    double beta1,
    boolean multiplyByParameterScale,
    boolean factored,
    int minDimSizeToFactor) implements Optimizer {

  public static final double DEFAULT_DECAY_EXPONENT = 0.8;
  public static final double DEFAULT_CLIP_THRESHOLD = 1.0;
  public static final double DEFAULT_EPS1 = 1e-30;
  public static final double DEFAULT_EPS2 = 1e-3;
  public static final int DEFAULT_MIN_DIM_SIZE_TO_FACTOR = 128;

  public Adafactor {
    checkArgument(decayExponent > 0 && decayExponent <= 1, "adafactor decay exponent must be in (0, 1], got %s",
        decayExponent);
    checkArgument(clipThreshold >= 0, "adafactor clipping threshold must be >= 0, got %s", clipThreshold);
    checkArgument(eps1 > 0 && eps2 >= 0, "adafactor eps1 must be > 0 and eps2 >= 0, got %s, %s", eps1, eps2);
    checkArgument(beta1 >= 0 && beta1 < 1, "adafactor beta1 must be in [0, 1), got %s", beta1);
    checkArgument(minDimSizeToFactor >= 1, "minDimSizeToFactor must be >= 1, got %s", minDimSizeToFactor);
  }

  /** T5X defaults. */
  public static Adafactor defaults() {
    return new Adafactor(DEFAULT_DECAY_EXPONENT, DEFAULT_CLIP_THRESHOLD, DEFAULT_EPS1, DEFAULT_EPS2, 0.0, true, true,
        DEFAULT_MIN_DIM_SIZE_TO_FACTOR);
  }

  public Adafactor withMinDimSizeToFactor(int value) {
    return new Adafactor(decayExponent, clipThreshold, eps1, eps2, beta1, multiplyByParameterScale, factored, value);
  }

  public Adafactor withBeta1(double value) {
    return new Adafactor(decayExponent, clipThreshold, eps1, eps2, value, multiplyByParameterScale, factored,
        minDimSizeToFactor);
  }

  @Override
  public String name() {
    return "adafactor";
  }

  /** The two factored axes {d0 (larger), d1}, or null when this shape keeps a full second moment. */
  public int[] factoredAxes(long[] shape) {
    if (!factored || shape.length < 2) {
      return null;
    }
    int a = shape.length - 2;
    int b = shape.length - 1;
    int d0 = shape[a] > shape[b] ? a : b;
    int d1 = d0 == a ? b : a;
    return shape[d1] >= minDimSizeToFactor ? new int[] {d0, d1} : null;
  }

  /** Axes an RMS is taken over: the last two for rank ≥ 3 (leading axes are batch), else all. */
  static int[] rmsAxes(long[] shape) {
    if (shape.length >= 3) {
      return new int[] {shape.length - 2, shape.length - 1};
    }
    int[] all = new int[shape.length];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    return all;
  }

  @Override
  public <T extends TFloating> List<Op> update(Ops tf, StateStore state, ModelVariable<T> param, Operand<T> g,
      Operand<T> lr, Operand<T> count, Class<T> dtype) {
    Operand<T> p = param.value();
    long[] shape = param.shape();
    List<Op> ops = new ArrayList<>();
    Operand<T> one = Optimizer.constant(tf, 1, dtype);
    Operand<T> decay = tf.math.sub(one, tf.math.pow(count, Optimizer.constant(tf, -decayExponent, dtype)));
    Operand<T> keep = tf.math.sub(one, decay);
    Operand<T> gsq = tf.math.add(tf.math.square(g), Optimizer.constant(tf, eps1, dtype));
    int[] axes = factoredAxes(shape);
    Operand<T> u;
    if (axes != null) {
      int d0 = axes[0];
      int d1 = axes[1];
      // a slot keeps the expert axis 0 unless its mean runs over it
      StateVariable<T> vr = state.slot(param, CanonicalNames.V_ROW, dtype, drop(shape, d0), d0 != 0);
      StateVariable<T> vc = state.slot(param, CanonicalNames.V_COL, dtype, drop(shape, d1), d1 != 0);
      Operand<T> newVr = tf.math.add(tf.math.mul(decay, vr.value()), tf.math.mul(keep, tf.math.mean(gsq,
          tf.constant(d0))));
      Operand<T> newVc = tf.math.add(tf.math.mul(decay, vc.value()), tf.math.mul(keep, tf.math.mean(gsq,
          tf.constant(d1))));
      int reducedD1 = d1 > d0 ? d1 - 1 : d1;
      Operand<T> rowColMean = tf.math.mean(newVr, tf.constant(reducedD1), Mean.keepDims(true));
      Operand<T> rowFactor = tf.math.rsqrt(tf.math.div(newVr, rowColMean));
      Operand<T> colFactor = tf.math.rsqrt(newVc);
      u = tf.math.mul(tf.math.mul(g, tf.expandDims(rowFactor, tf.constant(d0))),
          tf.expandDims(colFactor, tf.constant(d1)));
      ops.add(vr.assign(tf, newVr));
      ops.add(vc.assign(tf, newVc));
    } else {
      StateVariable<T> v = state.slot(param, CanonicalNames.V, dtype, shape, true);
      Operand<T> newV = tf.math.add(tf.math.mul(decay, v.value()), tf.math.mul(keep, gsq));
      u = tf.math.mul(g, tf.math.rsqrt(newV));
      ops.add(v.assign(tf, newV));
    }
    Operand<org.tensorflow.types.TInt32> rmsAxes = tf.constant(rmsAxes(shape));
    if (clipThreshold > 0) {
      Operand<T> rmsU = tf.math.sqrt(tf.math.mean(tf.math.square(u), rmsAxes, Mean.keepDims(true)));
      Operand<T> denom = tf.math.maximum(one, tf.math.div(rmsU, Optimizer.constant(tf, clipThreshold, dtype)));
      u = tf.math.div(u, denom);
    }
    Operand<T> rate = lr;
    if (multiplyByParameterScale) {
      Operand<T> rmsP = tf.math.sqrt(tf.math.mean(tf.math.square(p), rmsAxes, Mean.keepDims(true)));
      rate = tf.math.mul(lr, tf.math.maximum(Optimizer.constant(tf, eps2, dtype), rmsP));
    }
    Operand<T> sub = tf.math.mul(rate, u);
    if (beta1 > 0) {
      StateVariable<T> m = state.slot(param, CanonicalNames.M, dtype, shape, true);
      sub = tf.math.add(tf.math.mul(Optimizer.constant(tf, beta1, dtype), m.value()),
          tf.math.mul(Optimizer.constant(tf, 1 - beta1, dtype), sub));
      ops.add(m.assign(tf, sub));
    }
    ops.add(param.assign(tf, tf.math.sub(p, sub)));
    return ops;
  }

  private static long[] drop(long[] shape, int axis) {
    long[] out = new long[shape.length - 1];
    for (int i = 0, j = 0; i < shape.length; i++) {
      if (i != axis) {
        out[j++] = shape[i];
      }
    }
    return out;
  }
}
