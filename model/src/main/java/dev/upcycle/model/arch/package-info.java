/**
 * The three architectures, each readable top to bottom in one file: T5 v1.1 encoder-decoder
 * ({@link dev.upcycle.model.arch.T5Model}), ViT classifier ({@link dev.upcycle.model.arch.VitModel})
 * and decoder-only LM ({@link dev.upcycle.model.arch.DecoderLm}), any layer dense or MoE per the
 * {@link dev.upcycle.model.SparseLayout}; plus the losses and the FLOP count.
 */
package dev.upcycle.model.arch;
