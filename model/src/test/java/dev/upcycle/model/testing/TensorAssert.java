package dev.upcycle.model.testing;

import java.util.Arrays;
import org.tensorflow.Tensor;

/**
 * Closeness assertions for numeric arrays and tensors. Element {@code i} passes when {@code
 * |actual - expected| <= atol + rtol * |expected|}; NaN matches only NaN and an infinity only the
 * same infinity. A failure names the worst element (largest excess over its tolerance) with its
 * flat index, its multi-index when the shape is known, both values, and how many elements failed.
 */
public final class TensorAssert {

  private TensorAssert() {}

  /** Asserts {@code actual} is close to {@code expected}; {@code what} names the quantity. */
  public static void assertClose(
      String what, double[] expected, double[] actual, double atol, double rtol) {
    assertClose(what, expected, actual, null, atol, rtol);
  }

  /** As {@link #assertClose(String, double[], double[], double, double)} for floats. */
  public static void assertClose(
      String what, float[] expected, float[] actual, double atol, double rtol) {
    assertClose(what, Tensors.toDoubles(expected), Tensors.toDoubles(actual), null, atol, rtol);
  }

  /** Asserts a tensor's values (any numeric dtype, row-major) are close to {@code expected}. */
  public static void assertClose(
      String what, double[] expected, Tensor actual, double atol, double rtol) {
    assertClose(what, expected, Tensors.toDoubles(actual), Tensors.shape(actual), atol, rtol);
  }

  /** As {@link #assertClose(String, double[], double[], double, double)}, naming multi-indices. */
  public static void assertClose(
      String what, double[] expected, double[] actual, long[] shape, double atol, double rtol) {
    if (expected.length != actual.length) {
      throw new AssertionError(
          what + ": expected " + expected.length + " values, got " + actual.length);
    }
    int worst = -1;
    double worstExcess = 0;
    int failures = 0;
    for (int i = 0; i < expected.length; i++) {
      double excess = excess(expected[i], actual[i], atol, rtol);
      if (excess > 0) {
        failures++;
        if (worst < 0 || excess > worstExcess) {
          worst = i;
          worstExcess = excess;
        }
      }
    }
    if (failures > 0) {
      throw new AssertionError(
          String.format(
              "%s: %d of %d elements not close (atol %.3g, rtol %.3g); worst at %s: expected %s,"
                  + " actual %s, |diff| %.6g",
              what,
              failures,
              expected.length,
              atol,
              rtol,
              describeIndex(worst, shape),
              expected[worst],
              actual[worst],
              Math.abs(actual[worst] - expected[worst])));
    }
  }

  /** The largest {@code |a - b|} over all elements (NaN if any pair has exactly one NaN). */
  public static double maxAbsDiff(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
    }
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      double d = Math.abs(a[i] - b[i]);
      if (Double.isNaN(d) && !(Double.isNaN(a[i]) && Double.isNaN(b[i]))) {
        return Double.NaN;
      }
      if (d > max) {
        max = d;
      }
    }
    return max;
  }

  /**
   * How far {@code actual} is outside its tolerance (positive: not close), infinite for NaN or
   * infinity mismatches, 0 or negative when close.
   */
  static double excess(double expected, double actual, double atol, double rtol) {
    if (Double.isNaN(expected) || Double.isNaN(actual)) {
      return Double.isNaN(expected) && Double.isNaN(actual) ? 0 : Double.POSITIVE_INFINITY;
    }
    if (Double.isInfinite(expected) || Double.isInfinite(actual)) {
      return expected == actual ? 0 : Double.POSITIVE_INFINITY;
    }
    return Math.abs(actual - expected) - (atol + rtol * Math.abs(expected));
  }

  /** "element 7" or "element 7 [1, 3]" when the shape is known. */
  static String describeIndex(int flat, long[] shape) {
    if (shape == null || shape.length == 0) {
      return "element " + flat;
    }
    long[] idx = new long[shape.length];
    long rest = flat;
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = shape[d] == 0 ? 0 : rest % shape[d];
      rest = shape[d] == 0 ? 0 : rest / shape[d];
    }
    return "element " + flat + " " + Arrays.toString(idx);
  }
}
