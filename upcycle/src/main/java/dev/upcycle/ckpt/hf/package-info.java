/**
 * Readers for Hugging Face model folders, under the names the files store (the HF ↔ canonical
 * name tables live elsewhere): single-file and sharded safetensors ({@link
 * dev.upcycle.ckpt.hf.SafetensorsReader}, {@link dev.upcycle.ckpt.hf.SafetensorsShardedReader}),
 * Flax msgpack ({@link dev.upcycle.ckpt.hf.HfFlaxReader}), and {@link dev.upcycle.ckpt.hf.HfFolders},
 * which says which of these a folder holds and refuses PyTorch pickles. Each reads one tensor at a
 * time and reports a bad file as a {@link dev.upcycle.ckpt.CheckpointFormatException} naming the
 * file and tensor.
 */
package dev.upcycle.ckpt.hf;
