/**
 * Server-side batching as TF Serving's {@code --enable_batching}: {@link
 * dev.upcycle.savedmodels.rest.batching.BatchingPredictor} answers REST predict requests as {@link
 * dev.upcycle.savedmodels.rest.RestPredict} does, merging concurrent requests of one model,
 * signature and input shape into one run; {@link dev.upcycle.savedmodels.rest.batching.BatchingParameters}
 * holds the settings of a {@code --batching_parameters_file}; {@link
 * dev.upcycle.savedmodels.rest.batching.BatchingFlags} is what the two model server flags select.
 * See docs/serving.md, "Batching".
 */
package dev.upcycle.savedmodels.rest.batching;
