package dev.upcycle.savedmodels.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SortedMap;

/**
 * TF Serving's REST {@code predict} ({@code POST /v1/models/NAME[/versions/N]:predict}, DESIGN.md §7)
 * on a loaded model, as its {@code HttpRestApiHandler::ProcessPredictRequest} runs it: read the body
 * into tensors ({@link PredictRequestReader}), run the signature ({@link ServedModel#run}), write
 * the outputs in the layout of the request ({@link PredictResponseWriter}). Every failure is a
 * {@link RestError} carrying TF Serving's message and TensorFlow error code; its
 * {@link RestError#body()} is the body TF Serving answers with and {@link RestError#httpStatus()}
 * the HTTP status. Thread-safe.
 */
public final class RestPredict {

  /** The signature a request without {@code signature_name} runs. */
  public static final String DEFAULT_SIGNATURE = "serving_default";

  private RestPredict() {}

  /**
   * The response body for request body {@code body} ({@code source} names it in parse errors).
   *
   * @throws RestError for a request TF Serving refuses, or one TensorFlow refuses while running
   */
  public static String predict(ServedModel model, byte[] body, String source) {
    return predict(model, RestJson.parse(body, source));
  }

  /** The response body for a parsed request ({@link RestJson#parse}). */
  public static String predict(ServedModel model, ObjectNode request) {
    PredictRequest read = PredictRequestReader.read(request, model::inputMap);
    SortedMap<String, HostTensor> outputs = model.run(read.signatureName(), read.inputs());
    return PredictResponseWriter.write(outputs, read.format());
  }
}
