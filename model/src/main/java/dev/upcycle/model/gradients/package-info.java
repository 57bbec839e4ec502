/**
 * Java gradients for the ops our graphs use that have no C++ gradient in the TensorFlow 2.18
 * runtime behind TF Java 1.1.0. Call {@link dev.upcycle.model.gradients.MissingGradients#registerAll()}
 * once before the first {@code Graph.addGradients} / {@code tf.gradients}.
 */
package dev.upcycle.model.gradients;
