/**
 * TF Serving's REST {@code predict} API run in-process, the one implementation {@code bin/upcycle
 * predict} and a model server call: {@link dev.upcycle.savedmodels.rest.RestPredict} takes a request
 * body and a {@link dev.upcycle.savedmodels.rest.ServedModel} and returns the response body, or throws
 * a {@link dev.upcycle.savedmodels.rest.RestError} holding TF Serving's {@code {"error": ...}} body
 * and the TensorFlow error code ({@link dev.upcycle.savedmodels.rest.TfCode}, which maps to the HTTP
 * status TF Serving answers with).
 *
 * <p>The request reader ({@link dev.upcycle.savedmodels.rest.PredictRequestReader}) and the response
 * writer ({@link dev.upcycle.savedmodels.rest.PredictResponseWriter}) follow TF Serving's
 * {@code util/json_tensor.cc}; the tensors are built from the JSON with the dtype of the signature
 * and the shape of the JSON, and the graph decides what it accepts (no shape check before running).
 */
package dev.upcycle.savedmodels.rest;
