/**
 * Real input pipelines for training: TFRecord files of tf.train.Example turned into fixed-shape
 * step batches (T5 span-corruption pairs, causal LM sequences, images with labels), read ahead on
 * their own thread, addressable by step number so a resumed job sees the same batches.
 */
package dev.upcycle.train.input;
