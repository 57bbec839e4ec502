package dev.upcycle.model.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * T5 buckets (32 buckets, max distance 128) checked against values worked out by hand from the
 * flaxformer formula: exact below 8 per sign (bidirectional) / 16 (causal), log-spaced to 128,
 * clipped; relative = key − query.
 */
class RelativePositionsTest {

  @Test
  void bidirectionalBuckets() {
    // key before query (relative < 0): n = -relative > 0 → first half
    assertEquals(0, RelativePositions.bucket(0, true, 32, 128));
    assertEquals(1, RelativePositions.bucket(-1, true, 32, 128));
    assertEquals(7, RelativePositions.bucket(-7, true, 32, 128));
    // n = 8: 8 + floor(log(1)/log(16)·8) = 8
    assertEquals(8, RelativePositions.bucket(-8, true, 32, 128));
    // n = 16: 8 + floor(log(2)/log(16)·8) = 8 + 2 = 10
    assertEquals(10, RelativePositions.bucket(-16, true, 32, 128));
    // n = 127: 8 + floor(log(15.875)/log(16)·8) = 8 + 7 = 15
    assertEquals(15, RelativePositions.bucket(-127, true, 32, 128));
    assertEquals(15, RelativePositions.bucket(-1000, true, 32, 128), "clipped");
    // key after query: offset 16
    assertEquals(17, RelativePositions.bucket(1, true, 32, 128));
    assertEquals(26, RelativePositions.bucket(16, true, 32, 128));
  }

  @Test
  void causalBuckets() {
    assertEquals(0, RelativePositions.bucket(5, false, 32, 128), "future keys share bucket 0");
    assertEquals(15, RelativePositions.bucket(-15, false, 32, 128));
    // n = 16: 16 + floor(log(1)/log(8)·16) = 16
    assertEquals(16, RelativePositions.bucket(-16, false, 32, 128));
    // n = 32: 16 + floor(log(2)/log(8)·16) = 16 + 5 = 21
    assertEquals(21, RelativePositions.bucket(-32, false, 32, 128));
    assertEquals(31, RelativePositions.bucket(-500, false, 32, 128));
  }

  @Test
  void tableIsKeyMinusQuery() {
    int[][] b = RelativePositions.buckets(3, 4, true, 32, 128);
    assertEquals(RelativePositions.bucket(3, true, 32, 128), b[0][3]);
    assertEquals(RelativePositions.bucket(-2, true, 32, 128), b[2][0]);
  }
}
