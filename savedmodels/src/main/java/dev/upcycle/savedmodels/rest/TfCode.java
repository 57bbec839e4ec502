package dev.upcycle.savedmodels.rest;

import org.tensorflow.exceptions.TFFailedPreconditionException;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TFOutOfRangeException;
import org.tensorflow.exceptions.TFPermissionDeniedException;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TFUnauthenticatedException;
import org.tensorflow.exceptions.TFUnimplementedException;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * TensorFlow's canonical error codes ({@code absl::StatusCode}, {@code tensorflow/core/protobuf/error_codes.proto})
 * with the HTTP status TF Serving's REST server answers each with ({@code ToHTTPStatusCode} in
 * {@code tensorflow_serving/model_servers/http_server.cc}; status names as in its {@code net_http}
 * {@code HTTPStatusCode}).
 */
public enum TfCode {
  OK(0, 200),
  /** HTTP 499, nginx's "Client Closed Request". */
  CANCELLED(1, 499),
  UNKNOWN(2, 500),
  INVALID_ARGUMENT(3, 400),
  DEADLINE_EXCEEDED(4, 504),
  NOT_FOUND(5, 404),
  ALREADY_EXISTS(6, 409),
  PERMISSION_DENIED(7, 403),
  RESOURCE_EXHAUSTED(8, 429),
  /** 400, not 409: TF Serving maps it to BAD_REQUEST. */
  FAILED_PRECONDITION(9, 400),
  ABORTED(10, 409),
  OUT_OF_RANGE(11, 400),
  UNIMPLEMENTED(12, 501),
  INTERNAL(13, 500),
  UNAVAILABLE(14, 503),
  DATA_LOSS(15, 500),
  UNAUTHENTICATED(16, 401);

  private final int number;
  private final int httpStatus;

  TfCode(int number, int httpStatus) {
    this.number = number;
    this.httpStatus = httpStatus;
  }

  /** The code's number in {@code error_codes.proto} ({@code INVALID_ARGUMENT} = 3). */
  public int number() {
    return number;
  }

  /** The HTTP status TF Serving's REST API answers a request failing with this code with. */
  public int httpStatus() {
    return httpStatus;
  }

  /**
   * The code of an error TensorFlow Java raised. TF Java 1.1.0 has a class for seven codes only
   * ({@code TF_Status.throwExceptionIfNotOK}); the others (NOT_FOUND, ABORTED, UNAVAILABLE, INTERNAL,
   * ...) arrive as a plain {@link TensorFlowException} and are reported as {@link #UNKNOWN}.
   * INVALID_ARGUMENT and UNIMPLEMENTED are not {@link TensorFlowException}s in TF Java but
   * {@link IllegalArgumentException} and {@link UnsupportedOperationException} subclasses.
   */
  public static TfCode of(RuntimeException e) {
    if (e instanceof TFInvalidArgumentException) {
      return INVALID_ARGUMENT;
    } else if (e instanceof TFFailedPreconditionException) {
      return FAILED_PRECONDITION;
    } else if (e instanceof TFOutOfRangeException) {
      return OUT_OF_RANGE;
    } else if (e instanceof TFResourceExhaustedException) {
      return RESOURCE_EXHAUSTED;
    } else if (e instanceof TFUnimplementedException) {
      return UNIMPLEMENTED;
    } else if (e instanceof TFPermissionDeniedException) {
      return PERMISSION_DENIED;
    } else if (e instanceof TFUnauthenticatedException) {
      return UNAUTHENTICATED;
    }
    return UNKNOWN;
  }
}
