/**
 * TensorFlow tensor bundles (the V2 checkpoint format used by {@code tf.train.Saver},
 * {@code tf.train.Checkpoint} and SavedModel {@code variables/}) read and written in plain Java.
 *
 * <p>{@link dev.upcycle.ckpt.tf.TfBundleReader} opens a prefix, a folder with a {@code checkpoint}
 * state file or a SavedModel folder and streams tensors one at a time, checking every CRC;
 * {@link dev.upcycle.ckpt.tf.TfBundleWriter} writes a bundle into the folder it is given (a stage
 * of {@link dev.upcycle.ckpt.AtomicFolder}, which publishes it). The {@code .index} file is a LevelDB-format table (package-private
 * {@code TableReader} / {@code TableWriter}) mapping the empty key to a {@code BundleHeaderProto}
 * and each tensor name to a {@code BundleEntryProto}; data files hold the raw little-endian bytes.
 * No TensorFlow native code runs here; tests check both directions against TF's own
 * {@code SaveV2} / {@code RestoreV2}.
 */
package dev.upcycle.ckpt.tf;
