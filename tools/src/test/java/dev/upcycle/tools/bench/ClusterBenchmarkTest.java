package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench cluster} on a tiny T5 (d_model 16, 2 + 2 layers, batch 2 a worker, 1 timed step):
 * the report's shape and its byte counts, never its times. Starts worker processes on 127.0.0.1.
 */
class ClusterBenchmarkTest {

  @Test
  void reportsDenseScalingAndTheMoeWithAndWithoutExpertShards(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    BenchReport report = ClusterBenchmark.run(new ClusterBenchmark.Options(2, 8, 8, 16, 2, 0, 1, 4), dir,
        new PrintStream(log, true, StandardCharsets.UTF_8));
    List<String> names = report.results().stream().map(BenchResult::name).toList();
    assertEquals(List.of("cluster/1_worker/noxla", "cluster/2_workers/noxla", "cluster/2_workers_moe/noxla",
        "cluster/2_workers_moe_expert_shards_2/noxla"), names);
    assertEquals(List.of("scaling_2_over_1_workers", "moe_expert_shards_over_replicated_bytes_per_step",
        "moe_expert_shards_over_replicated_steps_per_s"), List.copyOf(report.ratios().keySet()));
    report.ratios().values().forEach(v -> assertTrue(v > 0 && Double.isFinite(v), report.ratios().toString()));
    for (BenchResult r : report.results()) {
      double measured = ClusterBenchmark.figure(r, "bytes_per_step");
      boolean sharded = ClusterBenchmark.figure(r, "expert_shards") == 2;
      assertEquals(!sharded, r.figures().containsKey("bytes_per_step_model"), r.name());
      if (!sharded) {
        // what the traced step received over gRPC: every variable out and every gradient back per
        // worker, plus the input shards and a few scalars
        double model = ClusterBenchmark.figure(r, "bytes_per_step_model");
        assertTrue(measured >= model && measured <= model * 1.01 + 1024, r.name() + ": measured " + measured
            + ", by construction " + model);
      }
    }
    BenchResult moe = report.results().get(2);
    assertTrue(ClusterBenchmark.figure(moe, "parameters") > ClusterBenchmark.figure(report.results().get(1), "parameters"), "the MoE has more weights");
    assertFalse(log.toString(StandardCharsets.UTF_8).isEmpty());
  }
}
