/**
 * {@code bin/upcycle serve}: a local stand-in for TF Serving's REST side (docs/serving.md "Model
 * server"). {@link dev.upcycle.savedmodels.server.ModelServer} answers TF Serving's REST endpoints
 * (predict, model status, metadata) on the JDK's HTTP server;
 * {@link dev.upcycle.savedmodels.server.VersionWatcher} polls the model base path and
 * {@link dev.upcycle.savedmodels.server.ModelVersions} loads the latest complete version and unloads
 * the one it replaces once its in-flight requests have finished. Every predict goes through one
 * {@link dev.upcycle.savedmodels.server.PredictHandler} (by default
 * {@link dev.upcycle.savedmodels.rest.RestPredict}), the seam server-side batching plugs into.
 */
package dev.upcycle.savedmodels.server;
