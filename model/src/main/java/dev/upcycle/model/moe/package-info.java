/**
 * Mixture-of-Experts, split as in flaxformer: routers ({@link dev.upcycle.model.moe.Router})
 * decide which tokens go to which expert slots and return a {@link dev.upcycle.model.moe.Routing};
 * {@link dev.upcycle.model.moe.MoeLayer} only dispatches (gather), runs the experts as one batched
 * matmul over stacked weights [E, d, d_ff], and combines (segment sum). Router math stays in the
 * compute dtype, which is float32 or float64 (never lower).
 */
package dev.upcycle.model.moe;
