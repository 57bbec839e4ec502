package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;

/**
 * Compares two REST answers as JSON: the same structure, the same strings, integers and booleans,
 * and floating-point numbers within {@link #RELATIVE} (plus {@link #ABSOLUTE} near zero). A batched
 * run computes a request's rows at other positions of the padded batch than an unbatched one, and
 * TF's CPU kernels (softmax's vectorised reductions) may round those rows differently in the last
 * bits: seen as 0.0279841013 vs 0.0279841032 for one probability, the logits equal.
 */
final class RestAnswers {

  static final double RELATIVE = 1e-6;
  static final double ABSOLUTE = 1e-9;
  private static final ObjectMapper JSON = new ObjectMapper();

  private RestAnswers() {}

  static void assertSameAnswer(String expected, String actual, String what) {
    assertSame(parse(expected, what), parse(actual, what), what, "$", expected, actual);
  }

  static void assertSameAnswer(JsonNode expected, JsonNode actual, String what) {
    assertSame(expected, actual, what, "$", expected.toString(), actual.toString());
  }

  private static JsonNode parse(String body, String what) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(what + ": not JSON: " + body, e);
    }
  }

  private static void assertSame(JsonNode want, JsonNode got, String what, String path, String expected,
      String actual) {
    String where = what + " at " + path + ": expected " + expected + " but was " + actual;
    if (want.isFloatingPointNumber() || got.isFloatingPointNumber()) {
      assertTrue(want.isNumber() && got.isNumber(), where);
      double w = want.doubleValue();
      double g = got.doubleValue();
      assertTrue(Math.abs(w - g) <= RELATIVE * Math.abs(w) + ABSOLUTE, where + " (" + w + " vs " + g + ")");
      return;
    }
    assertEquals(want.getNodeType(), got.getNodeType(), where);
    if (want.isArray()) {
      assertEquals(want.size(), got.size(), where);
      for (int i = 0; i < want.size(); i++) {
        assertSame(want.get(i), got.get(i), what, path + "[" + i + "]", expected, actual);
      }
    } else if (want.isObject()) {
      assertEquals(fieldNames(want), fieldNames(got), where);
      for (Iterator<String> it = want.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        assertSame(want.get(f), got.get(f), what, path + "." + f, expected, actual);
      }
    } else {
      assertEquals(want, got, where);
    }
  }

  private static String fieldNames(JsonNode n) {
    StringBuilder b = new StringBuilder();
    n.fieldNames().forEachRemaining(f -> b.append(f).append(','));
    return b.toString();
  }
}
