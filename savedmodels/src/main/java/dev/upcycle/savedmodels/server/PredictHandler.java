package dev.upcycle.savedmodels.server;

import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.RestPredict;
import dev.upcycle.savedmodels.rest.ServedModel;

/**
 * How the server runs a predict request on the version it resolved: the one seam every
 * {@code :predict} goes through, so that another strategy (server-side batching) can replace the
 * direct call. Implementations are thread-safe; the server calls them concurrently. The server
 * owns the handler it is started with: {@link ModelServer#close()} closes it once every in-flight
 * request has been answered.
 */
@FunctionalInterface
public interface PredictHandler extends AutoCloseable {

  /** One request at a time, straight through {@link RestPredict#predict(ServedModel, byte[], String)}. */
  PredictHandler DIRECT = RestPredict::predict;

  /**
   * The response body for request body {@code body} on {@code model} ({@code source} names the body
   * in parse errors).
   *
   * @throws RestError for a request TF Serving refuses, or one TensorFlow refuses while running
   */
  String predict(ServedModel model, byte[] body, String source);

  /**
   * Releases what the handler holds (batch threads); called by the server after its last request.
   * Nothing by default.
   */
  @Override
  default void close() {}
}
