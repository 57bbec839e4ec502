/**
 * Describing a checkpoint without converting it: {@link dev.upcycle.inspect.ArchitectureDetector}
 * recognises T5 v1.1 / ViT / decoder-only LM (and existing MoE layers) from canonical names and
 * shapes; {@link dev.upcycle.inspect.InspectReport} lists every tensor with totals as text or JSON.
 */
package dev.upcycle.inspect;
