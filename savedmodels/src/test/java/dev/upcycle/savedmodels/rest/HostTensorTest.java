package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The limits {@link HostTensor} checks before a tensor reaches TensorFlow. */
class HostTensorTest {

  @Test
  void aValueCountThatOverflowsALongIsRefused() {
    assertEquals(6, HostTensor.size(new long[] {2, 3}));
    assertEquals(Long.MAX_VALUE, HostTensor.size(new long[] {Long.MAX_VALUE, 1}));
    // 2^32 * 2^32 wraps to 0 unchecked: a tensor claiming 2^64 values would hold none
    RestError e = assertThrows(RestError.class, () -> HostTensor.ofFloats(new long[] {1L << 32, 1L << 32}));
    assertEquals(TfCode.INVALID_ARGUMENT, e.code());
    assertEquals("Shape [4294967296,4294967296] is too large (more than 2**63 - 1 entries)", e.getMessage());
  }

  @Test
  void moreDimensionsThanTensorFlowAllowsNeverReachTensorFlow() {
    long[] ones = new long[HostTensor.MAX_RANK + 1];
    Arrays.fill(ones, 1);
    HostTensor t = HostTensor.ofFloats(ones, 1f);
    RestError e = assertThrows(RestError.class, () -> t.toTensor("x").close());
    assertEquals(TfCode.INVALID_ARGUMENT, e.code());
    assertEquals("input 'x' has 255 dimensions; TensorFlow tensors have at most 254", e.getMessage());
    try (var ok = HostTensor.ofFloats(Arrays.copyOf(ones, HostTensor.MAX_RANK), 1f).toTensor("x")) {
      assertEquals(HostTensor.MAX_RANK, ok.shape().numDimensions());
    }
  }
}
