/**
 * Benchmark harness (DESIGN.md §9): timing of repeated steps ({@link dev.upcycle.tools.bench.Timing}),
 * the machine's f32 matmul ceiling ({@link dev.upcycle.tools.bench.MatmulCeiling}), session configs
 * with and without XLA ({@link dev.upcycle.model.graph.SessionConfigs}) and the JSON report every
 * {@code upcycle bench <what>} prints ({@link dev.upcycle.tools.bench.BenchReport}).
 *
 * <p>Benchmarks measure ratios within one run on one machine; tests never assert on time.
 */
package dev.upcycle.tools.bench;
