package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.exceptions.TFFailedPreconditionException;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TFOutOfRangeException;
import org.tensorflow.exceptions.TFPermissionDeniedException;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TFUnauthenticatedException;
import org.tensorflow.exceptions.TFUnimplementedException;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.error.Code;

/**
 * The error codes are TensorFlow's ({@code error_codes.proto}, as TF Java ships it) and each maps to
 * the HTTP status of TF Serving's {@code ToHTTPStatusCode} ({@code model_servers/http_server.cc}).
 */
class TfCodeTest {

  @Test
  void namesAndNumbersAreTensorFlowsOwn() {
    for (TfCode c : TfCode.values()) {
      assertEquals(c.number(), Code.valueOf(c.name()).getNumber(), c.name());
    }
    long protoCodes = Arrays.stream(Code.values()).filter(c -> c != Code.UNRECOGNIZED
        && !c.name().startsWith("DO_NOT_USE")).count();
    assertEquals(protoCodes, TfCode.values().length, "every canonical code is here");
  }

  @Test
  void httpStatusIsTfServingsMapping() {
    // tensorflow_serving/model_servers/http_server.cc ToHTTPStatusCode, case by case
    Map<TfCode, Integer> expected = new LinkedHashMap<>();
    expected.put(TfCode.OK, 200);
    expected.put(TfCode.CANCELLED, 499); // CLIENT_CLOSED_REQUEST
    expected.put(TfCode.UNKNOWN, 500); // ERROR
    expected.put(TfCode.INVALID_ARGUMENT, 400); // BAD_REQUEST
    expected.put(TfCode.DEADLINE_EXCEEDED, 504); // GATEWAY_TO
    expected.put(TfCode.NOT_FOUND, 404);
    expected.put(TfCode.ALREADY_EXISTS, 409); // CONFLICT
    expected.put(TfCode.PERMISSION_DENIED, 403); // FORBIDDEN
    expected.put(TfCode.RESOURCE_EXHAUSTED, 429); // TOO_MANY_REQUESTS
    expected.put(TfCode.FAILED_PRECONDITION, 400); // BAD_REQUEST
    expected.put(TfCode.ABORTED, 409); // CONFLICT
    expected.put(TfCode.OUT_OF_RANGE, 400); // BAD_REQUEST
    expected.put(TfCode.UNIMPLEMENTED, 501); // NOT_IMP
    expected.put(TfCode.INTERNAL, 500);
    expected.put(TfCode.UNAVAILABLE, 503); // SERVICE_UNAV
    expected.put(TfCode.DATA_LOSS, 500);
    expected.put(TfCode.UNAUTHENTICATED, 401);
    assertEquals(TfCode.values().length, expected.size());
    expected.forEach((code, status) -> assertEquals(status, code.httpStatus(), code.name()));
  }

  @Test
  void tensorFlowJavaExceptionsGiveTheirCodes() {
    assertEquals(TfCode.INVALID_ARGUMENT, TfCode.of(new TFInvalidArgumentException("x")));
    assertEquals(TfCode.FAILED_PRECONDITION, TfCode.of(new TFFailedPreconditionException("x")));
    assertEquals(TfCode.OUT_OF_RANGE, TfCode.of(new TFOutOfRangeException("x")));
    assertEquals(TfCode.RESOURCE_EXHAUSTED, TfCode.of(new TFResourceExhaustedException("x")));
    assertEquals(TfCode.UNIMPLEMENTED, TfCode.of(new TFUnimplementedException("x")));
    assertEquals(TfCode.PERMISSION_DENIED, TfCode.of(new TFPermissionDeniedException("x")));
    assertEquals(TfCode.UNAUTHENTICATED, TfCode.of(new TFUnauthenticatedException("x")));
    assertEquals(TfCode.UNKNOWN, TfCode.of(new TensorFlowException("x")), "codes TF Java has no class for");
  }

  @Test
  void anErrorCarriesItsCodeStatusAndBody() {
    RestError e = new RestError(TfCode.NOT_FOUND, "Servable not found for request: Latest(half)");
    assertEquals(404, e.httpStatus());
    assertEquals("NOT_FOUND: Servable not found for request: Latest(half)", e.status());
    assertEquals("{\"error\":\"Servable not found for request: Latest(half)\"}", e.body());
    assertEquals("{\"error\":\"a \\\"quoted\\\"\\nline\"}", RestError.invalid("a \"quoted\"\nline").body());
    assertThrows(IllegalArgumentException.class, () -> new RestError(TfCode.OK, "fine"));
  }
}
