/**
 * Hugging Face model folders: {@code config.json} into our architecture ({@link
 * dev.upcycle.ckpt.hf.HfConfig}), and the stored tensor names of T5 v1.1 and ViT (PyTorch state
 * dict as in safetensors, or Flax) ↔ canonical names with the layout transforms between them, as
 * tables ({@link dev.upcycle.ckpt.hf.HfT5Names}, {@link dev.upcycle.ckpt.hf.HfVitNames}), applied
 * while streaming by {@link dev.upcycle.ckpt.hf.HfCanonicalReader}.
 */
package dev.upcycle.ckpt.hf;
