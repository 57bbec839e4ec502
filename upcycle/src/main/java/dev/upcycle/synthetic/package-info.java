/**
 * Synthetic dense checkpoints: the canonical tensors of a T5 v1.1 config with random values, with
 * or without optimizer slots, written as a TF bundle ({@link dev.upcycle.synthetic.SyntheticCheckpoint}).
 * No conversion code uses it; it is here, below both of its users, so that there is one copy: the
 * tests of this module and the {@code bench convert} benchmark of the {@code tools} module.
 */
package dev.upcycle.synthetic;
