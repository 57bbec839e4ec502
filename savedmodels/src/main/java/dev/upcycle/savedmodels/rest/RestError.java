package dev.upcycle.savedmodels.rest;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

/**
 * A failed REST request as TF Serving reports it: a TensorFlow error code and a message. The body
 * TF Serving answers with is {@link #body()} ({@code {"error": message}}) and the HTTP status
 * {@link #httpStatus()}.
 */
public final class RestError extends RuntimeException {

  private final TfCode code;

  public RestError(TfCode code, String message) {
    this(code, message, null);
  }

  public RestError(TfCode code, String message, Throwable cause) {
    super(checkNotNull(message, "message"), cause);
    checkArgument(checkNotNull(code, "code") != TfCode.OK, "an error cannot have the code OK");
    this.code = code;
  }

  /** An {@link TfCode#INVALID_ARGUMENT} error (TF Serving's {@code errors::InvalidArgument}). */
  static RestError invalid(String message) {
    return new RestError(TfCode.INVALID_ARGUMENT, message);
  }

  public TfCode code() {
    return code;
  }

  /** The HTTP status TF Serving answers with ({@link TfCode#httpStatus()}). */
  public int httpStatus() {
    return code.httpStatus();
  }

  /** {@code INVALID_ARGUMENT: message}, as {@code absl::Status::ToString} writes it (TF Serving nests these). */
  public String status() {
    return code.name() + ": " + getMessage();
  }

  /** The response body: {@code {"error": message}}. */
  public String body() {
    return RestJson.errorBody(getMessage());
  }
}
