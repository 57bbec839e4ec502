/**
 * The benchmarks (DESIGN.md §9) and their harness. Benchmarks: {@link dev.upcycle.tools.bench.MatmulCeiling}
 * ({@code bench ceiling}), {@link dev.upcycle.tools.bench.ModelBenchmark} ({@code bench model}),
 * {@link dev.upcycle.tools.bench.TrainBenchmark} and {@link dev.upcycle.tools.bench.InputBenchmark}
 * ({@code bench train}), {@link dev.upcycle.tools.bench.ConvertBenchmark} ({@code bench convert}).
 * Harness: timing of repeated steps ({@link dev.upcycle.tools.bench.Timing}), session configs with and
 * without XLA ({@link dev.upcycle.model.graph.SessionConfigs}), the machine and the device a TensorFlow
 * session lists ({@link dev.upcycle.tools.bench.MachineInfo}, {@link dev.upcycle.model.graph.SessionDevices})
 * and the one JSON report every {@code upcycle bench <what>} prints ({@link dev.upcycle.tools.bench.BenchReport}
 * of {@link dev.upcycle.tools.bench.BenchResult}s), per-op times from TensorFlow's step stats
 * ({@code StepProfile}, {@code bench model --profile}) and the matmul FLOPs of the ops a step runs
 * ({@code GraphFlops}, which tests hold {@link dev.upcycle.model.arch.FlopCount} to).
 *
 * <p>Benchmarks measure ratios within one run on one machine; tests never assert on time.
 */
package dev.upcycle.tools.bench;
