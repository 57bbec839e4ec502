package dev.upcycle.savedmodels.rest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * JSON as TF Serving's REST API reads and writes it: {@code NaN}, {@code Infinity} and
 * {@code -Infinity} accepted in requests and written unquoted; a request body is exactly one JSON
 * object ({@code ParseJson} in {@code util/json_tensor.cc}); values quoted in error messages are cut
 * to 256 characters, as TF Serving's {@code JsonValueToDebugString} cuts them.
 */
public final class RestJson {

  /**
   * Deepest nesting of arrays and objects a request may have: a tensor of TensorFlow's highest rank
   * ({@link HostTensor#MAX_RANK}) inside the request object, its list and an instance object, with
   * room to spare; a tensor of a higher rank is refused before TensorFlow sees it. (TF
   * Serving parses iteratively and has no limit; a bound keeps a hostile body from using the stack.)
   */
  public static final int MAX_NESTING_DEPTH = 260;

  /** TF Serving's {@code kMaxJsonDebugStringBytes}. */
  static final int MAX_DEBUG_STRING = 256;

  private static final JsonMapper MAPPER = build();

  private RestJson() {}

  private static JsonMapper build() {
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build()).build();
    return JsonMapper.builder(factory).enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS).build();
  }

  /** The mapper: reads {@code NaN}/{@code Infinity}, writes them unquoted. Thread-safe. */
  public static JsonMapper mapper() {
    return MAPPER;
  }

  /**
   * Parses a request body: exactly one JSON document (whitespace around it only), an object, nested
   * at most {@link #MAX_NESTING_DEPTH} arrays and objects deep, in strict UTF-8 (as RapidJSON reads
   * it for TF Serving; a parser left to guess takes {@code 00 00 00 xx} for UTF-32). Offsets in
   * messages count bytes of the body.
   *
   * @param source what the body came from (a file name, {@code stdin}), named in parse errors
   * @throws RestError INVALID_ARGUMENT {@code JSON Parse error: ... at offset: N (line L, column C of
   *     SOURCE)} for an empty, malformed, too deeply nested or trailed body, {@code JSON Parse error:
   *     Invalid encoding in string. at offset: N (SOURCE)} for bytes that are not UTF-8, {@code JSON Value: ... Is
   *     not object} for a document that is not an object
   */
  public static ObjectNode parse(byte[] body, String source) {
    if (body.length == 0) {
      throw RestError.invalid("JSON Parse error: The document is empty (" + source + ")");
    }
    String text = decodeUtf8(body, source);
    JsonNode tree;
    try (JsonParser parser = MAPPER.createParser(text)) {
      try {
        tree = MAPPER.readTree(parser);
      } catch (StreamConstraintsException e) {
        throw RestError.invalid("JSON Parse error: the nesting depth exceeds the limit: a request nests at most "
            + MAX_NESTING_DEPTH + " arrays and objects" + where(e.getLocation(), text, source));
      }
      if (tree == null || tree.isMissingNode()) {
        throw RestError.invalid("JSON Parse error: The document is empty (" + source + ")");
      }
      JsonLocation end = parser.currentLocation();
      JsonToken next;
      try {
        next = parser.nextToken();
      } catch (JsonProcessingException e) {
        next = JsonToken.NOT_AVAILABLE; // an unreadable token after the document: trailing bytes too
      }
      if (next != null) {
        throw RestError.invalid("JSON Parse error: The document root must not be followed by other values"
            + where(end, text, source));
      }
    } catch (JsonProcessingException e) {
      throw RestError.invalid("JSON Parse error: " + e.getOriginalMessage().replaceAll("\\[Source: [^;]*; ", "[")
          + where(e.getLocation(), text, source));
    } catch (IOException e) {
      throw new UncheckedIOException("reading the request " + source, e);
    }
    if (!tree.isObject()) {
      throw RestError.invalid("JSON Value: " + debugString(tree) + " Is not object");
    }
    return (ObjectNode) tree;
  }

  /** {@code body} as strict UTF-8 text: malformed bytes are an error naming their offset, not replaced. */
  private static String decodeUtf8(byte[] body, String source) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body);
    CharBuffer out = CharBuffer.allocate(body.length); // UTF-8 never decodes to more chars than bytes
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      throw RestError.invalid("JSON Parse error: Invalid encoding in string. at offset: " + in.position()
          + " (the request is not UTF-8 text; " + source + ")");
    }
    return out.flip().toString();
  }

  private static String where(JsonLocation at, String text, String source) {
    if (at == null) {
      return " (" + source + ")";
    }
    long chars = Math.min(Math.max(at.getCharOffset(), 0), text.length());
    long offset = text.substring(0, (int) chars).getBytes(StandardCharsets.UTF_8).length; // the body's bytes
    return " at offset: " + offset + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + " of " + source
        + ")";
  }

  /** A JSON value written compactly for a message, cut to {@value #MAX_DEBUG_STRING} characters. */
  static String debugString(JsonNode v) {
    String s = write(v);
    return s.length() <= MAX_DEBUG_STRING ? s : s.substring(0, MAX_DEBUG_STRING);
  }

  /** TF Serving's name of a JSON value's type in messages ({@code JsonTypeString}). */
  static String typeName(JsonNode v) {
    return switch (v.getNodeType()) {
      case ARRAY -> "Array";
      case OBJECT, POJO -> "Object";
      case STRING, BINARY -> "String";
      case NUMBER -> "Number";
      case BOOLEAN -> v.booleanValue() ? "True" : "False";
      default -> "Null";
    };
  }

  /** {@code {"error": message}}, TF Serving's error body. */
  public static String errorBody(String message) {
    ObjectNode e = MAPPER.createObjectNode();
    e.put("error", message);
    return write(e);
  }

  private static String write(JsonNode v) {
    try {
      return MAPPER.writeValueAsString(v);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON tree", e);
    }
  }
}
