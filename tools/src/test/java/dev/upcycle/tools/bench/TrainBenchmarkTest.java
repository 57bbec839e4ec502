package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.graph.SessionDevices;
import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.model.arch.FlopCount;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's JSON shape and arithmetic on a tiny model (no assertion on time). */
class TrainBenchmarkTest {

  private static final BatchShape SHAPE = new BatchShape(2, 8, 8);

  @Test
  void reportHasTheDesignShape() throws Exception {
    T5Config tiny = ((T5Config) Presets.get("t5-tiny")).withLayers(2, 2).withVocabSize(128);
    ModelSpec dense = ModelSpec.dense(tiny);
    ModelSpec moe = ModelSpec.sparse(tiny, MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER);
    List<TrainBenchmark.Case> cases = List.of(
        new TrainBenchmark.Case("t5-test", "dense", dense, SHAPE, XlaMode.OFF, Precision.FLOAT32),
        new TrainBenchmark.Case("t5-test", "moe-e4", moe, SHAPE, XlaMode.OFF, Precision.FLOAT32),
        new TrainBenchmark.Case("t5-test", "dense", dense, SHAPE, XlaMode.AUTO, Precision.FLOAT32));
    BenchReport report = TrainBenchmark.run(cases, new TrainBenchmark.Options(1, 2), 100.0,
        new PrintStream(PrintStream.nullOutputStream()));
    JsonNode doc = new ObjectMapper().readTree(report.toJson());
    assertEquals("train", doc.get("bench").asText());
    assertTrue(doc.get("machine").get("cores").asInt() >= 1);
    assertEquals(SessionDevices.describe(), doc.get("machine").get("device").asText());
    double ceiling = doc.get("ceiling_gflops").asDouble();
    assertEquals(100.0, ceiling, 0);
    JsonNode r = doc.get("results");
    assertEquals(3, r.size());
    assertEquals("t5-test/dense/noxla", r.get(0).get("name").asText());
    assertEquals("t5-test/moe-e4/noxla", r.get(1).get("name").asText());
    assertEquals("t5-test/dense/xla", r.get(2).get("name").asText());
    // the two modes of the dense model were timed round-robin, the MoE model alone
    assertEquals("t5-test/dense/xla", r.get(0).get("timed_round_robin_with").asText());
    assertEquals("", r.get(1).get("timed_round_robin_with").asText());
    assertEquals("t5-test/dense/noxla", r.get(2).get("timed_round_robin_with").asText());
    for (JsonNode x : r) {
      JsonNode ms = x.get("ms_per_step");
      assertTrue(ms.get("min").asDouble() <= ms.get("median").asDouble()
          && ms.get("median").asDouble() <= ms.get("max").asDouble());
      assertEquals(x.get("gflops").asDouble() / ceiling, x.get("fraction_of_ceiling").asDouble(), 1e-9);
      assertEquals(1000 / ms.get("median").asDouble(), x.get("steps_per_s").asDouble(), 1e-9);
      assertTrue(x.get("build_s").asDouble() > 0 && x.get("first_step_s").asDouble() > 0, x.toString());
    }
    double flops = FlopCount.trainStep(dense, 2, 8, 8);
    assertEquals(flops / (r.get(0).get("ms_per_step").get("median").asDouble() / 1000) / 1e9,
        r.get(0).get("gflops").asDouble(), 1e-9 * r.get(0).get("gflops").asDouble());
    assertTrue(doc.get("ratios").has("t5_test_moe_over_dense_noxla"));
    assertTrue(doc.get("ratios").has("t5_test_moe_over_dense_flop_adjusted_noxla"));
    assertEquals(r.get(2).get("ms_per_step").get("median").asDouble()
        / r.get(0).get("ms_per_step").get("median").asDouble(),
        doc.get("ratios").get("t5_test_dense_xla_over_noxla").asDouble(), 1e-9);
  }

  @Test
  void casesAreGroupedByModelInOrderOfFirstAppearance() {
    ModelSpec dense = ModelSpec.dense(Presets.get("t5-tiny"));
    TrainBenchmark.Case a = new TrainBenchmark.Case("m", "dense", dense, SHAPE, XlaMode.OFF, Precision.FLOAT32);
    TrainBenchmark.Case b = new TrainBenchmark.Case("m", "moe", dense, SHAPE, XlaMode.OFF, Precision.FLOAT32);
    List<List<TrainBenchmark.Case>> groups = TrainBenchmark.byModel(List.of(a, b, a.with(XlaMode.AUTO,
        Precision.FLOAT32), b.with(XlaMode.OFF, Precision.BFLOAT16)));
    assertEquals(List.of(List.of("m/dense/noxla", "m/dense/xla"), List.of("m/moe/noxla", "m/moe/noxla-bf16")),
        groups.stream().map(g -> g.stream().map(TrainBenchmark.Case::name).toList()).toList());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainBenchmark.byModel(
        List.of(a, a)));
    assertTrue(e.getMessage().contains("m/dense/noxla"), e.getMessage());
  }
}
