/**
 * The training step and loop: {@link dev.upcycle.train.step.TrainStep} (one static-shape graph per
 * batch shape: forward, backward, clipping, optimizer update, step increment, XLA on or off),
 * {@link dev.upcycle.train.step.Trainer} (the loop with checkpoints, exact resume and metrics),
 * {@link dev.upcycle.train.step.Evaluator}, {@link dev.upcycle.train.step.BatchSource} (batches by
 * step number, so resuming replays the same data).
 */
package dev.upcycle.train.step;
