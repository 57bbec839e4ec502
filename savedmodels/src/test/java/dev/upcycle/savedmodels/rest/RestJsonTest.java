package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link RestJson#parse}: request bodies are strict UTF-8, and offsets in its messages count bytes. */
class RestJsonTest {

  private static RestError refused(byte[] body) {
    RestError e = assertThrows(RestError.class, () -> RestJson.parse(body, "req.json"));
    assertEquals(TfCode.INVALID_ARGUMENT, e.code(), e.getMessage());
    return e;
  }

  @Test
  void bytesThatAreNotUtf8AreAnInvalidEncoding() {
    byte[] lone = {'{', '"', 'a', '"', ':', '"', (byte) 0x80, '"', '}'}; // a continuation byte alone
    assertEquals("JSON Parse error: Invalid encoding in string. at offset: 6 (the request is not UTF-8 text;"
        + " req.json)", refused(lone).getMessage());
    byte[] overlong = {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'}; // '/' in two bytes
    assertTrue(refused(overlong).getMessage().startsWith("JSON Parse error: Invalid encoding in string. at offset: 6"));
    byte[] surrogate = {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'}; // U+D800
    assertTrue(refused(surrogate).getMessage().contains("Invalid encoding"));
  }

  /** Jackson left to guess took 00 00 00 xx for UTF-32 and threw a bare CharConversionException. */
  @Test
  void leadingNulBytesAreReadAsUtf8NotGuessedToBeUtf32() {
    assertTrue(refused(new byte[] {0, 0, 0, (byte) 0x80, '{', '}'}).getMessage().contains("Invalid encoding"));
    assertTrue(refused(new byte[] {0, 0, 0, '{', '}'}).getMessage().startsWith("JSON Parse error: "));
  }

  @Test
  void utf8TextIsReadAndOffsetsCountItsBytes() {
    assertEquals("é", RestJson.parse("{\"a\": \"é\"}".getBytes(StandardCharsets.UTF_8), "req.json").get("a")
        .textValue());
    String ascii = refused("{\"e\": 1} x".getBytes(StandardCharsets.UTF_8)).getMessage();
    String twoByte = refused("{\"é\": 1} x".getBytes(StandardCharsets.UTF_8)).getMessage();
    int at = Integer.parseInt(ascii.replaceAll(".* at offset: (\\d+) .*", "$1"));
    assertEquals(ascii.replace("offset: " + at + " ", "offset: " + (at + 1) + " "), twoByte);
  }
}
