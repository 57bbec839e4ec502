package dev.upcycle.model.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/** The checker passes correct gradients, fails wrong ones, and says where. */
class GradientCheckerTest {

  @Test
  void passesAndReturnsAnalyticGradientMatchingClosedForm() {
    // f(x, y) = sum(x^2 * y) → df/dx = 2xy, df/dy = x^2
    double[] x = {1.5, -2.0, 0.5, 3.0};
    double[] y = {0.25, 1.0, -1.5, 2.0};
    GradientChecker.Result r =
        GradientChecker.float64(
                (tf, in) ->
                    tf.sum(
                        tf.math.mul(tf.math.square(in.get(0)), in.get(1)),
                        tf.constant(new int[] {0, 1})))
            .input("x", x, 2, 2)
            .input("y", y, 2, 2)
            .check();
    double[] dx = new double[4];
    double[] dy = new double[4];
    for (int i = 0; i < 4; i++) {
      dx[i] = 2 * x[i] * y[i];
      dy[i] = x[i] * x[i];
    }
    TensorAssert.assertClose("df/dx", dx, r.analytic("x"), 1e-12, 0);
    TensorAssert.assertClose("df/dy", dy, r.analytic("y"), 1e-12, 0);
    TensorAssert.assertClose("numeric df/dx", dx, r.numeric("x"), 1e-6, 1e-6);
    assertTrue(r.worstAbsError() < 1e-6, "worst error " + r.worstAbsError());
  }

  @Test
  void failsForAGradientHiddenByStopGradient() {
    // f(x) = sum(x * stopGradient(x)): addGradients yields x, the true derivative is 2x
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () ->
                GradientChecker.float64(
                        (tf, in) ->
                            tf.sum(
                                tf.math.mul(in.get(0), tf.stopGradient(in.get(0))),
                                tf.constant(0)))
                    .input("weights", new double[] {1.0, -2.0, 3.0})
                    .check());
    String m = e.getMessage();
    assertTrue(m.contains("input 'weights'"), m);
    // worst element is index 2 (x = 3): analytic 3, numeric 6
    assertTrue(m.contains("element 2 [2]"), m);
    assertTrue(m.contains("analytic 3.00000000"), m);
    assertTrue(m.contains("numeric 6.00000"), m);
    assertTrue(m.contains("3 of 3 checked elements failed"), m);
  }

  @Test
  void compareFailsForACorruptedAnalyticVectorAndNamesTheElement() {
    double[] numeric = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
    double[] analytic = numeric.clone();
    int[] all = {0, 1, 2, 3, 4, 5};
    assertEquals(
        0.0, GradientChecker.compare("w", new long[] {3, 2}, analytic, numeric, all, 1e-6, 1e-5));
    analytic[3] += 0.01;
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> GradientChecker.compare("w", new long[] {3, 2}, analytic, numeric, all, 1e-6, 1e-5));
    String m = e.getMessage();
    assertTrue(m.contains("input 'w' element 3 [1, 1]"), m);
    assertTrue(m.contains("analytic 4.01000000"), m);
    assertTrue(m.contains("numeric 4.00000000"), m);
    // an element that was not checked (NaN numeric) is ignored
    double[] partial = numeric.clone();
    partial[3] = Double.NaN;
    GradientChecker.compare("w", new long[] {3, 2}, analytic, partial, new int[] {0, 1, 2}, 1e-6, 1e-5);
    // within tolerance passes: |diff| 1e-6 <= 1e-6 + 1e-5 * 4
    double[] close = numeric.clone();
    close[3] += 1e-6;
    GradientChecker.compare("w", new long[] {3, 2}, close, numeric, all, 1e-6, 1e-5);
  }

  @Test
  void checksOnlyASeededSubsetWhenAsked() {
    double[] x = new double[40];
    for (int i = 0; i < x.length; i++) {
      x[i] = 0.1 * i - 2;
    }
    GradientChecker.Function<TFloat64> cube =
        (tf, in) -> tf.sum(tf.math.mul(tf.math.square(in.get(0)), in.get(0)), tf.constant(0));
    GradientChecker.Result a = GradientChecker.float64(cube).input("x", x).maxElementsPerInput(5).seed(9).check();
    GradientChecker.Result b = GradientChecker.float64(cube).input("x", x).maxElementsPerInput(5).seed(9).check();
    long checked = Arrays.stream(a.numeric("x")).filter(v -> !Double.isNaN(v)).count();
    assertEquals(5, checked);
    assertEquals(Arrays.toString(a.numeric("x")), Arrays.toString(b.numeric("x")), "same seed, same subset");
    assertEquals(40, a.analytic("x").length, "the analytic gradient is always complete");
  }

  @Test
  void float32ModeWithRelaxedDefaults() {
    GradientChecker.Result r =
        GradientChecker.float32(
                (tf, in) -> {
                  Operand<TFloat32> x = in.get(0);
                  return tf.sum(tf.math.mul(tf.math.tanh(x), x), tf.constant(0));
                })
            .input("x", new double[] {0.3, -0.8, 1.1})
            .check();
    // d/dx x tanh x = tanh x + x (1 - tanh^2 x)
    double[] expected = new double[3];
    double[] x = {0.3, -0.8, 1.1};
    for (int i = 0; i < 3; i++) {
      double t = Math.tanh(x[i]);
      expected[i] = t + x[i] * (1 - t * t);
    }
    TensorAssert.assertClose("float32 analytic", expected, r.analytic("x"), 1e-6, 1e-5);
  }

  @Test
  void nonScalarOutputsAreProjectedSoWrongRoutingIsCaught() {
    // a correct elementwise product passes; a stopGradient on part of a vector output fails
    GradientChecker.float64((tf, in) -> tf.math.mul(in.get(0), tf.constant(new double[] {1, 2, 3})))
        .input("x", new double[] {0.5, 0.5, 0.5})
        .check();
    assertThrows(
        AssertionError.class,
        () ->
            GradientChecker.float64(
                    (tf, in) ->
                        tf.concat(
                            java.util.List.of(
                                tf.slice(in.get(0), tf.constant(new int[] {0}), tf.constant(new int[] {1})),
                                tf.stopGradient(
                                    tf.slice(in.get(0), tf.constant(new int[] {1}), tf.constant(new int[] {2})))),
                            tf.constant(0)))
                .input("x", new double[] {0.5, 0.5, 0.5})
                .check());
  }

  @Test
  void scalarInputsAndValidation() {
    GradientChecker.Result r =
        GradientChecker.float64((tf, in) -> tf.math.square(in.get(0))).scalarInput("s", 1.5).check();
    TensorAssert.assertClose("d s^2", new double[] {3.0}, r.analytic("s"), 1e-12, 0);
    assertThrows(
        IllegalArgumentException.class,
        () -> GradientChecker.float64((tf, in) -> in.get(0)).input("x", new double[] {1, 2, 3}, 2, 2));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            GradientChecker.float64((tf, in) -> in.get(0))
                .input("x", new double[] {1})
                .input("x", new double[] {2}));
    assertThrows(
        IllegalArgumentException.class,
        () -> GradientChecker.float64((tf, in) -> in.get(0)).check(),
        "no inputs");
  }
}
