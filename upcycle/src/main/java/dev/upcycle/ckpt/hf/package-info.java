/**
 * Hugging Face model folders as checkpoints: the weight-file readers under stored names
 * ({@link dev.upcycle.ckpt.hf.SafetensorsReader}, {@link dev.upcycle.ckpt.hf.SafetensorsShardedReader},
 * {@link dev.upcycle.ckpt.hf.HfFlaxReader}; {@link dev.upcycle.ckpt.hf.HfFolders} says which form a
 * folder holds and refuses pickles), {@link dev.upcycle.ckpt.hf.HfConfig} ({@code config.json} →
 * our T5 v1.1 / ViT config, refusing what our graphs cannot represent), and the name tables with
 * their per-tensor layout changes ({@link dev.upcycle.ckpt.hf.HfT5Names},
 * {@link dev.upcycle.ckpt.hf.HfVitNames}, {@link dev.upcycle.ckpt.hf.HfTensorLayout}) applied while
 * streaming by {@link dev.upcycle.ckpt.hf.HfCanonicalReader}.
 */
package dev.upcycle.ckpt.hf;
