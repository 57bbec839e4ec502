package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/** {@link HostTensors} joins and cuts along dimension 0 for every kind of values, and refuses what does not line up. */
class HostTensorsTest {

  /** [rows, 2] floats r*10 + c + offset. */
  private static HostTensor floats(int rows, int offset) {
    float[] v = new float[rows * 2];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < 2; c++) {
        v[r * 2 + c] = offset + r * 10 + c;
      }
    }
    return HostTensor.ofFloats(new long[] {rows, 2}, v);
  }

  private static double[] reals(HostTensor t) {
    double[] d = new double[(int) t.size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = t.real(i);
    }
    return d;
  }

  @Test
  void concatenationThenSplitGivesThePartsBack() {
    HostTensor a = floats(1, 0);
    HostTensor b = floats(3, 100);
    HostTensor c = floats(2, 1000);
    HostTensor joined = HostTensors.concat(List.of(a, b, c));
    assertArrayEquals(new long[] {6, 2}, joined.shape());
    assertEquals(DataType.DT_FLOAT, joined.dtype());
    assertArrayEquals(new double[] {0, 1, 100, 101, 110, 111, 120, 121, 1000, 1001, 1010, 1011}, reals(joined));
    List<HostTensor> parts = HostTensors.split(joined, new long[] {1, 3, 2});
    assertEquals(3, parts.size());
    assertArrayEquals(reals(a), reals(parts.get(0)));
    assertArrayEquals(reals(b), reals(parts.get(1)));
    assertArrayEquals(reals(c), reals(parts.get(2)));
    assertArrayEquals(new long[] {3, 2}, parts.get(1).shape());
    assertArrayEquals(new double[] {110, 111, 120, 121}, reals(HostTensors.slice(b, 1, 2)));
    assertArrayEquals(new long[] {0, 2}, HostTensors.slice(b, 3, 0).shape());
    assertSame(a, HostTensors.concat(List.of(a)), "one part is itself");
  }

  @Test
  void integersStringsAndValuelessTensorsKeepTheirKind() {
    HostTensor i1 = HostTensor.of(DataType.DT_INT64, new long[] {2}, new long[] {7, -1L});
    HostTensor i2 = HostTensor.of(DataType.DT_INT64, new long[] {1}, new long[] {Long.MIN_VALUE});
    HostTensor ints = HostTensors.concat(List.of(i1, i2));
    assertEquals(DataType.DT_INT64, ints.dtype());
    assertEquals(Long.MIN_VALUE, ints.integer(2));
    assertEquals(-1L, HostTensors.split(ints, new long[] {1, 2}).get(1).integer(0));

    byte[][] s = {"a".getBytes(StandardCharsets.UTF_8), "bc".getBytes(StandardCharsets.UTF_8),
        "d".getBytes(StandardCharsets.UTF_8)};
    HostTensor strings = HostTensor.of(DataType.DT_STRING, new long[] {3, 1}, s);
    HostTensor back = HostTensors.concat(HostTensors.split(strings, new long[] {2, 1}));
    assertArrayEquals(new long[] {3, 1}, back.shape());
    assertEquals("bc", new String(back.string(1), StandardCharsets.UTF_8));

    HostTensor half = HostTensor.of(DataType.DT_HALF, new long[] {2, 3}, null);
    HostTensor halves = HostTensors.concat(List.of(half, half));
    assertFalse(halves.hasValues());
    assertArrayEquals(new long[] {4, 3}, halves.shape());
    assertEquals(DataType.DT_HALF, halves.dtype());
  }

  @Test
  void partsThatDoNotLineUpAreRefused() {
    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
        () -> HostTensors.concat(List.of(floats(1, 0), HostTensor.ofFloats(new long[] {1, 3}, 1, 2, 3))));
    assertTrue(shape.getMessage().contains("part 1 has shape [1,3]"), shape.getMessage());
    IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class, () -> HostTensors.concat(List.of(
        HostTensor.ofFloats(new long[] {1}, 1f), HostTensor.of(DataType.DT_INT32, new long[] {1}, new long[] {1}))));
    assertEquals("part 1 is int32, part 0 float", dtype.getMessage());
    IllegalArgumentException scalar = assertThrows(IllegalArgumentException.class,
        () -> HostTensors.split(HostTensor.ofFloats(new long[0], 1f), new long[] {1}));
    assertEquals("a scalar has no batch dimension", scalar.getMessage());
    IllegalArgumentException sizes = assertThrows(IllegalArgumentException.class,
        () -> HostTensors.split(floats(3, 0), new long[] {1, 1}));
    assertEquals("sizes [1, 1] add up to 2 rows, the tensor [3,2] has 3", sizes.getMessage());
    assertThrows(IllegalArgumentException.class, () -> HostTensors.slice(floats(3, 0), 2, 2));
    assertThrows(IllegalArgumentException.class, () -> HostTensors.concat(List.of()));
    assertArrayEquals(new long[] {2}, HostTensors.innerShape(floats(5, 0)));
    assertArrayEquals(new long[0], HostTensors.innerShape(HostTensor.ofFloats(new long[0], 1f)));
  }
}
