package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Floats and doubles are written as TF Serving's {@code WriteDecimal} writes them: the cases of its
 * {@code json_tensor_test.cc} ({@code FromJsonSingleFloatTensorSixDigitPrecision},
 * {@code ...NonFinite}) and C {@code %g} results worked out by hand, and every text reads back to the
 * same value.
 */
class DecimalTextTest {

  @Test
  void tfServingsSixDigitCases() {
    assertEquals("9e+06", DecimalText.ofFloat(9000000f));
    assertEquals("999999.0", DecimalText.ofFloat(999999f));
    assertEquals("0.5", DecimalText.ofFloat(0.50000f));
    assertEquals("0.0003", DecimalText.ofFloat(.0003f));
    assertEquals("3e-05", DecimalText.ofFloat(.00003f));
    assertEquals("555557.5", DecimalText.ofFloat(555557.5f), "six digits do not read back: %.9g");
    assertEquals("NaN", DecimalText.ofFloat(Float.NaN));
    assertEquals("Infinity", DecimalText.ofFloat(Float.POSITIVE_INFINITY));
    assertEquals("-Infinity", DecimalText.ofFloat(Float.NEGATIVE_INFINITY));
    assertEquals("3.0", DecimalText.ofFloat(3f));
  }

  @Test
  void cPercentGByHand() {
    assertEquals("2.5", DecimalText.ofFloat(2.5f));
    assertEquals("0.1", DecimalText.ofFloat(0.1f));
    assertEquals("0.333333343", DecimalText.ofFloat(1f / 3));
    assertEquals("123456792.0", DecimalText.ofFloat(123456789f));
    assertEquals("1e+06", DecimalText.ofFloat(1e6f));
    assertEquals("100.0", DecimalText.ofFloat(100f));
    assertEquals("-0.0", DecimalText.ofFloat(-0f));
    assertEquals("0.0", DecimalText.ofFloat(0f));
    assertEquals("-1.5e-07", DecimalText.ofFloat(-1.5e-7f));
    assertEquals("1.4013e-45", DecimalText.ofFloat(Float.MIN_VALUE));
    assertEquals("3.40282347e+38", DecimalText.ofFloat(Float.MAX_VALUE));
    assertEquals("1.43577434e+09", DecimalText.ofFloat(1435774380f), "exponent 9 >= precision 9: scientific");
    assertEquals("0.1", DecimalText.ofDouble(0.1));
    assertEquals("0.33333333333333331", DecimalText.ofDouble(1.0 / 3));
    assertEquals("1e+16", DecimalText.ofDouble(1e16));
    assertEquals("8.0", DecimalText.ofDouble(8.0));
    assertEquals("1.7976931348623157e+308", DecimalText.ofDouble(Double.MAX_VALUE));
    assertEquals("NaN", DecimalText.ofDouble(Double.NaN));
    assertEquals("-Infinity", DecimalText.ofDouble(Double.NEGATIVE_INFINITY));
  }

  @Test
  void everyTextReadsBackToItsValue() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int i = 0; i < 20_000; i++) {
      float f = Float.intBitsToFloat(rnd.nextInt());
      if (Float.isFinite(f)) {
        String s = DecimalText.ofFloat(f);
        assertEquals(Float.floatToIntBits(f), Float.floatToIntBits(Float.parseFloat(s)), s);
      }
      double d = Double.longBitsToDouble(rnd.nextLong());
      if (Double.isFinite(d)) {
        String s = DecimalText.ofDouble(d);
        assertEquals(Double.doubleToLongBits(d), Double.doubleToLongBits(Double.parseDouble(s)), s);
      }
    }
  }
}
