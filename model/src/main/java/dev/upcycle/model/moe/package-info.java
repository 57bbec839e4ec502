/**
 * Mixture-of-Experts, split as in flaxformer: routers ({@link dev.upcycle.model.moe.Router})
 * decide which tokens go to which expert slots and return a {@link dev.upcycle.model.moe.Routing};
 * {@link dev.upcycle.model.moe.MoeLayer} only dispatches (gather into rows grouped by expert), runs
 * each expert as plain matmuls on its contiguous rows (slices of the stacked weights [E, d, d_ff]),
 * and combines (segment sum). Capacity routing makes every slot a row; dropless top-K
 * ({@link dev.upcycle.model.moe.FilledSlotRows}) only the N·K filled ones, and so does top-K capacity routing in
 * an inference graph built {@code withFilledSlotsOnly} (the filled slots, counted at run time). Router math stays in the
 * compute dtype, which is float32 or float64 (never lower).
 */
package dev.upcycle.model.moe;
