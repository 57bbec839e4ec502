package dev.upcycle.train.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.arch.FlopCount;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's JSON shape and arithmetic on a tiny model (no assertion on time). */
class TrainBenchmarkTest {

  @Test
  void reportHasTheDesignShape() {
    ModelSpec dense = ModelSpec.dense(TinyModels.t5());
    ModelSpec moe = TinyModels.t5Moe();
    List<TrainBenchmark.Case> cases = List.of(
        new TrainBenchmark.Case("t5-test", "dense", dense, TinyModels.SHAPE, false),
        new TrainBenchmark.Case("t5-test", "moe-e4", moe, TinyModels.SHAPE, false));
    ObjectNode doc = TrainBenchmark.run(cases, new TrainBenchmark.Options(1, 2), 100.0,
        new PrintStream(PrintStream.nullOutputStream()));
    assertEquals("train", doc.get("bench").asText());
    assertTrue(doc.get("machine").get("cores").asInt() >= 1);
    double ceiling = doc.get("ceiling_gflops").asDouble();
    assertTrue(ceiling > 0);
    JsonNode r = doc.get("results");
    assertEquals(2, r.size());
    assertEquals("t5-test/dense/noxla", r.get(0).get("name").asText());
    assertEquals("t5-test/moe-e4/noxla", r.get(1).get("name").asText());
    for (JsonNode x : r) {
      JsonNode ms = x.get("ms_per_step");
      assertTrue(ms.get("min").asDouble() <= ms.get("median").asDouble()
          && ms.get("median").asDouble() <= ms.get("max").asDouble());
      assertEquals(x.get("gflops").asDouble() / ceiling, x.get("fraction_of_ceiling").asDouble(), 2e-3);
    }
    double flops = FlopCount.trainStep(dense, 2, 8, 8);
    assertEquals(flops / (r.get(0).get("ms_per_step").get("median").asDouble() / 1000) / 1e9,
        r.get(0).get("gflops").asDouble(), 0.01 + 1e-3 * r.get(0).get("gflops").asDouble());
    assertTrue(doc.get("ratios").has("t5_test_moe_over_dense_noxla"));
    assertTrue(doc.get("ratios").has("t5_test_moe_over_dense_flop_adjusted_noxla"));
  }
}
