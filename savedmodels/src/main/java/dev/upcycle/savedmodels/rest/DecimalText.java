package dev.upcycle.savedmodels.rest;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Floating-point numbers as TF Serving writes them ({@code WriteDecimal} in {@code util/json_tensor.cc}):
 * six significant digits as C's {@code %g} prints them ({@code absl::StrCat}), or, when that does not
 * read back to the same value, {@code %.9g} for a float and {@code %.17g} for a double; {@code .0}
 * appended when the text has neither a point nor an exponent; {@code NaN}, {@code Infinity} and
 * {@code -Infinity} for the non-finite values. So {@code 0.5f} is {@code 0.5}, {@code 3f} is
 * {@code 3.0}, {@code 9e6f} is {@code 9e+06}, {@code 0.00003f} is {@code 3e-05} and
 * {@code 555557.5f} is {@code 555557.5}.
 */
public final class DecimalText {

  /** {@code std::numeric_limits<float>::max_digits10}. */
  static final int FLOAT_DIGITS = 9;
  /** {@code std::numeric_limits<double>::max_digits10}. */
  static final int DOUBLE_DIGITS = 17;
  /** {@code absl::StrCat}'s precision for floating point. */
  static final int SHORT_DIGITS = 6;

  private DecimalText() {}

  public static String ofFloat(float v) {
    if (!Float.isFinite(v)) {
      return nonFinite(v);
    }
    String s = g(v, SHORT_DIGITS);
    if (Float.parseFloat(s) != v) {
      s = g(v, FLOAT_DIGITS);
    }
    return pointed(s);
  }

  public static String ofDouble(double v) {
    if (!Double.isFinite(v)) {
      return nonFinite(v);
    }
    String s = g(v, SHORT_DIGITS);
    if (Double.parseDouble(s) != v) {
      s = g(v, DOUBLE_DIGITS);
    }
    return pointed(s);
  }

  private static String nonFinite(double v) {
    return Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  }

  private static String pointed(String s) {
    return s.indexOf('.') < 0 && s.indexOf('e') < 0 ? s + ".0" : s;
  }

  /**
   * C's {@code printf("%.<precision>g", v)}: the exact binary value rounded to {@code precision}
   * significant digits (half to even); scientific notation ({@code d.ddde+XX}, at least two exponent
   * digits) when the decimal exponent is below -4 or at least the precision, else fixed; trailing
   * zeros and a trailing point removed.
   */
  static String g(double v, int precision) {
    if (v == 0) {
      return 1 / v < 0 ? "-0" : "0";
    }
    BigDecimal r = new BigDecimal(v).round(new MathContext(precision, RoundingMode.HALF_EVEN));
    String sign = r.signum() < 0 ? "-" : "";
    r = r.abs();
    int exponent = r.precision() - r.scale() - 1;
    if (exponent < -4 || exponent >= precision) {
      String digits = r.unscaledValue().toString().replaceFirst("0+$", "");
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      int e = Math.abs(exponent);
      return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
    }
    return sign + r.stripTrailingZeros().toPlainString();
  }
}
