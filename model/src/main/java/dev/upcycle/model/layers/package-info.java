/**
 * Transformer building blocks as static graph builders: dense projections, RMSNorm and
 * LayerNorm, tanh GELU, dropout, T5 relative position buckets, masks, multi-head attention,
 * the dense MLPs, token and patch embeddings. Variables are requested from the
 * {@link dev.upcycle.model.graph.VariableStore} under their canonical names.
 */
package dev.upcycle.model.layers;
