/**
 * Checkpoints of a training run: every model variable, optimizer slot and {@code state/step} under
 * canonical names in a TF tensor bundle, one atomically published folder per step
 * ({@code <run>/checkpoints/step_000100/model.ckpt-100} + {@code config.json}), the last K kept,
 * resume from the newest, and restoring from a converter-written checkpoint.
 */
package dev.upcycle.train.ckpt;
