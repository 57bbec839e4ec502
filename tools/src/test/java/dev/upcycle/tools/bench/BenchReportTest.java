package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchReportTest {

  private static BenchReport sample() {
    Timing.Stats stats = new Timing.Stats(10.0, 9.5, 12.0);
    BenchResult dense = BenchResult.timed("mlp/dense/xla", stats)
        .withTokensPerStep(4096)
        .withFlopsPerStep(2e9, 400.0);
    BenchResult copy = BenchResult.timed("convert/copy/noxla", new Timing.Stats(3.0, 2.0, 4.0));
    Map<String, Double> ratios = new LinkedHashMap<>();
    ratios.put("xla_over_noxla", 0.92);
    ratios.put("moe_ec_over_dense_flop_adjusted", 1.04);
    return new BenchReport("model", new MachineInfo(2, "17.0.15", "2.18.0", "cpu"), 400.0,
        List.of(dense, copy), ratios);
  }

  @Test
  void jsonHasTheDesignedShape() throws Exception {
    JsonNode root = new ObjectMapper().readTree(sample().toJson());
    List<String> top = new ArrayList<>();
    root.fieldNames().forEachRemaining(top::add);
    assertEquals(List.of("bench", "machine", "ceiling_gflops", "results", "ratios"), top);
    assertEquals("model", root.get("bench").asText());
    JsonNode machine = root.get("machine");
    assertEquals(2, machine.get("cores").asInt());
    assertEquals("17.0.15", machine.get("java").asText());
    assertEquals("2.18.0", machine.get("tensorflow").asText());
    assertEquals("cpu", machine.get("device").asText());
    assertEquals(400.0, root.get("ceiling_gflops").asDouble(), 0);

    JsonNode dense = root.get("results").get(0);
    assertEquals("mlp/dense/xla", dense.get("name").asText());
    assertEquals(10.0, dense.get("ms_per_step").get("median").asDouble(), 0);
    assertEquals(9.5, dense.get("ms_per_step").get("min").asDouble(), 0);
    assertEquals(12.0, dense.get("ms_per_step").get("max").asDouble(), 0);
    // 4096 tokens per 10 ms step; 2e9 FLOPs per 10 ms = 200 GFLOP/s = half of 400
    assertEquals(409_600.0, dense.get("tokens_per_s").asDouble(), 1e-6);
    assertEquals(200.0, dense.get("gflops").asDouble(), 1e-9);
    assertEquals(0.5, dense.get("fraction_of_ceiling").asDouble(), 1e-12);

    JsonNode copy = root.get("results").get(1);
    assertFalse(copy.has("tokens_per_s"), "absent figures are left out, not null");
    assertFalse(copy.has("gflops"));
    assertFalse(copy.has("fraction_of_ceiling"));

    List<String> ratioNames = new ArrayList<>();
    root.get("ratios").fieldNames().forEachRemaining(ratioNames::add);
    assertEquals(List.of("xla_over_noxla", "moe_ec_over_dense_flop_adjusted"), ratioNames);
    assertEquals(0.92, root.get("ratios").get("xla_over_noxla").asDouble(), 0);
  }

  @Test
  void jsonRoundTrips() {
    BenchReport report = sample();
    assertEquals(report, BenchReport.fromJson(report.toJson()));
  }

  @Test
  void fractionIsLeftOutWithoutACeiling() {
    BenchResult r = BenchResult.timed("matmul/f32_8/noxla", new Timing.Stats(1.0, 1.0, 1.0))
        .withFlopsPerStep(1e6, 0);
    assertEquals(1.0, r.gflops(), 1e-12);
    assertEquals(null, r.fractionOfCeiling());
  }

  @Test
  void rejectsMalformedNamesAndValues() {
    Timing.Stats s = new Timing.Stats(1, 1, 1);
    MachineInfo m = new MachineInfo(1, "17", "2.18.0", "cpu");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BenchResult.timed("mlp/dense", s));
    assertTrue(e.getMessage().contains("mlp/dense"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BenchResult.timed("mlp/dense/gpu", s));
    assertThrows(IllegalArgumentException.class,
        () -> new BenchResult("a/b/xla", s, Double.NaN, null, null));
    assertThrows(IllegalArgumentException.class,
        () -> new BenchReport("x", m, 1, List.of(), Map.of("XlaOverNoxla", 1.0)));
    assertThrows(IllegalArgumentException.class,
        () -> new BenchReport("x", m, 1, List.of(), Map.of("ratio", Double.POSITIVE_INFINITY)));
    assertThrows(IllegalArgumentException.class,
        () -> new BenchReport("x", m, Double.NaN, List.of(), Map.of()));
    assertThrows(IllegalArgumentException.class, () -> BenchReport.fromJson("{\"bench\": "));
  }

  @Test
  void machineInfoOfThisJvm() {
    MachineInfo m = MachineInfo.cpu();
    assertEquals(Runtime.getRuntime().availableProcessors(), m.cores());
    assertEquals(System.getProperty("java.version"), m.java());
    assertTrue(m.tensorflow().matches("\\d+\\.\\d+\\.\\d+.*"), m.tensorflow());
    assertEquals("cpu", m.device());
  }
}
