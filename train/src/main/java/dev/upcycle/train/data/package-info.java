/**
 * Training data on disk and in flight: TFRecord framing ({@link dev.upcycle.train.data.TfRecordReader},
 * {@link dev.upcycle.train.data.TfRecordWriter}), {@code tf.train.Example} encoding
 * ({@link dev.upcycle.train.data.ExampleCodec}), deterministic sharded shuffled reading
 * ({@link dev.upcycle.train.data.ShuffledShardedSource}), IDX image conversion
 * ({@link dev.upcycle.train.data.IdxImages}) and the text-to-TFRecord job
 * ({@link dev.upcycle.train.data.TokenizeJob}).
 *
 * <p>Everything here is plain Java (no TensorFlow graph ops). The jobs publish their output
 * folder, with its {@code provenance.json}, through {@link dev.upcycle.ckpt.AtomicFolder}; the
 * TFRecord writer just writes a new file in the folder it is given.
 */
package dev.upcycle.train.data;
