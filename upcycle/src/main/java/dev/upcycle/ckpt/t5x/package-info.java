/**
 * T5X checkpoints on disk: a folder {@code checkpoint_<step>/} holding the msgpack file {@code
 * checkpoint} ({@code {version: 3, optimizer: {target: {...}, state: {step, param_states}}}}) and
 * one zarr v2 folder per array (gzip chunks {@code 0.0}, {@code 0.1}, ...; optional {@code
 * .zarray}). {@link dev.upcycle.ckpt.t5x.T5xCheckpointReader} and {@link
 * dev.upcycle.ckpt.t5x.T5xCheckpointWriter} name tensors by their tree path without the {@code
 * optimizer} level: {@code target/encoder/layers_0/mlp/wi_0/kernel}, {@code
 * state/param_states/...}, {@code state/step}. {@link dev.upcycle.ckpt.names.T5xNames} strips
 * the {@code target/} prefix to reach canonical names (DESIGN.md §3). {@link
 * dev.upcycle.ckpt.t5x.AdafactorLayout} is T5X's Adafactor state layout (all four slots {@code
 * v_row}, {@code v_col}, {@code v}, {@code m} per parameter, unused ones float32 [1]): the writer
 * completes state to it, the reader leaves its placeholders out.
 */
package dev.upcycle.ckpt.t5x;
