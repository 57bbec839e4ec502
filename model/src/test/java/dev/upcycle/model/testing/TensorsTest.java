package dev.upcycle.model.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/** Round trips and shape checks of {@link Tensors}, and {@link TensorAssert} messages. */
class TensorsTest {

  @Test
  void roundTripsEveryTypeRowMajor() {
    try (TFloat32 f = Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        TFloat64 d = Tensors.of(new double[] {0.5, -1.5}, 2, 1);
        TInt32 i = Tensors.of(new int[] {7, 8, 9});
        TInt64 l = Tensors.of(new long[] {1L << 40, -3}, 2)) {
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Tensors.toFloats(f));
      assertEquals(6f, f.getFloat(1, 2), "row-major: [1, 2] is the last element");
      assertArrayEquals(new long[] {2, 3}, Tensors.shape(f));
      assertArrayEquals(new double[] {0.5, -1.5}, Tensors.toDoubles(d));
      assertArrayEquals(new long[] {3}, Tensors.shape(i), "omitted shape means a vector");
      assertArrayEquals(new int[] {7, 8, 9}, Tensors.toInts(i));
      assertArrayEquals(new long[] {7, 8, 9}, Tensors.toLongs(i));
      assertArrayEquals(new long[] {1L << 40, -3}, Tensors.toLongs(l));
      assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, Tensors.toDoubles(f));
      assertArrayEquals(new float[] {0.5f, -1.5f}, Tensors.toFloats(d));
    }
  }

  @Test
  void scalarsAndDtypeDispatch() {
    try (TFloat64 s = Tensors.scalar(2.5);
        TInt32 i = Tensors.scalar(4);
        TFloat32 f = Tensors.ofDoubles(TFloat32.class, new double[] {0.1, 0.2}, 1, 2);
        TInt64 l = Tensors.ofDoubles(TInt64.class, new double[] {3, 4})) {
      assertEquals(0, Tensors.shape(s).length);
      assertEquals(2.5, Tensors.scalarValue(s));
      assertEquals(4.0, Tensors.scalarValue(i));
      assertArrayEquals(new float[] {0.1f, 0.2f}, Tensors.toFloats(f));
      assertArrayEquals(new long[] {3, 4}, Tensors.toLongs(l));
    }
  }

  @Test
  void rejectsBadShapesAndLossyConversions() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tensors.of(new float[] {1, 2, 3}, 2, 2));
    assertTrue(e.getMessage().contains("[2, 2] holds 4 values but 3 were given"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> Tensors.ofDoubles(TInt32.class, new double[] {1.5}));
    try (TInt64 big = Tensors.of(new long[] {1L << 40})) {
      assertThrows(IllegalArgumentException.class, () -> Tensors.toInts(big));
    }
    try (TFloat32 f = Tensors.of(new float[] {1})) {
      assertThrows(IllegalArgumentException.class, () -> Tensors.toLongs(f));
    }
  }

  @Test
  void tensorAssertNamesTheWorstElement() {
    double[] expected = {1, 2, 3, 4, 5, 6};
    TensorAssert.assertClose("ok", expected, new double[] {1, 2, 3, 4, 5, 6 + 5e-6}, 1e-6, 1e-6);
    double[] actual = {1, 2.001, 3, 4, 5.1, 6};
    AssertionError e;
    try (TFloat64 t = Tensors.of(actual, 2, 3)) {
      e = assertThrows(AssertionError.class, () -> TensorAssert.assertClose("logits", expected, t, 1e-6, 1e-6));
    }
    String m = e.getMessage();
    assertTrue(m.startsWith("logits: 2 of 6 elements not close"), m);
    assertTrue(m.contains("worst at element 4 [1, 1]: expected 5.0, actual 5.1"), m);
    assertThrows(
        AssertionError.class,
        () -> TensorAssert.assertClose("nan", new double[] {1}, new double[] {Double.NaN}, 1, 1));
    TensorAssert.assertClose("both nan", new double[] {Double.NaN}, new double[] {Double.NaN}, 0, 0);
    assertThrows(
        AssertionError.class,
        () -> TensorAssert.assertClose("length", new float[] {1, 2}, new float[] {1}, 0, 0));
    assertEquals(0.1, TensorAssert.maxAbsDiff(expected, actual), 1e-12);
  }
}
