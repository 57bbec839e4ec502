/**
 * Checkpoint formats: streaming readers and writers that move one tensor at a time between a
 * format on disk (TF tensor bundle, T5X msgpack + zarr, Mesh-TF names) and {@link
 * dev.upcycle.ckpt.RawTensor} values under canonical names (DESIGN.md §3), and an in-memory
 * checkpoint ({@link dev.upcycle.ckpt.InMemoryCheckpoint}, {@link
 * dev.upcycle.ckpt.InMemoryCheckpointWriter}) for tensors that never touch the disk. Writers write
 * into the folder they are given; {@link dev.upcycle.ckpt.AtomicFolder} is the one way a folder is
 * published (staged beside its target, fsynced, renamed into place).
 */
package dev.upcycle.ckpt;
