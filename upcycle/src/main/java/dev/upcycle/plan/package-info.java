/**
 * Sparse upcycling as data (DESIGN.md §4): {@link dev.upcycle.plan.UpcycleOptions} say what to do,
 * {@link dev.upcycle.plan.PlanBuilder} turns a dense checkpoint's canonical names and shapes into an
 * {@link dev.upcycle.plan.UpcyclePlan} of {@link dev.upcycle.plan.Rule}s (copy, tile to experts,
 * split into finer experts, fresh router, optimizer slots, drop), {@link dev.upcycle.plan.PlanCheck}
 * verifies it before a byte is written, {@link dev.upcycle.plan.PlanExecutor} carries it out one
 * tensor at a time from a reader into a writer, and {@link dev.upcycle.plan.ConvertJob} runs that
 * into an atomically published TF bundle or T5X checkpoint with a provenance JSON, while
 * {@link dev.upcycle.plan.SessionUpcycle} runs it between the variables of two models held in TF
 * sessions (in memory).
 *
 * <p><b>Granularity G (LLaMA-MoE style split).</b> Each dense MLP's d_ff units are cut into G
 * contiguous chunks of width w = d_ff / G; expert e (of E, E a multiple of G) takes chunk
 * {@code e mod G}: the matching columns of {@code wi_0}/{@code wi_1}/{@code wi} kernels and
 * {@code wi} bias, and rows of {@code wo} kernel; {@code wo} bias is copied. With the default
 * scaling ({@link dev.upcycle.plan.GranularScaling#WO_TIMES_G}) the {@code wo} kernel rows are
 * multiplied by G: the dense output is Σ_c chunk_c(x) + b_o, and a token whose (renormalised)
 * combine weights give exactly one expert of each chunk the weight 1/G gets
 * Σ_c (1/G)·G·chunk_c(x) + Σ (1/G)·b_o = the dense output, e.g. top-G routing with a router whose
 * logits tie (all zeros) picks experts 0..G-1. Megatron-Core's scaling and virtual-groups routers
 * are {@link dev.upcycle.plan.GranularScaling} and {@link dev.upcycle.plan.UpcycleOptions#routerVirtualGroups}.
 */
package dev.upcycle.plan;
