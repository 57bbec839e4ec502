/**
 * Training metrics: per-step figures ({@link dev.upcycle.train.metrics.StepMetrics}), a JSONL
 * writer, hand-written TensorBoard event files (TFRecord framing with masked CRC32C), the
 * {@link dev.upcycle.train.metrics.TrainListener} interface and a plain periodic progress printer.
 */
package dev.upcycle.train.metrics;
