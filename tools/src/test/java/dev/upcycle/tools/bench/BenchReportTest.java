package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.model.graph.SessionDevices;
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
    return new BenchReport("model", new MachineInfo(2, "17.0.15", "2.18.0", "cpu", false, ""), 400.0,
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

  /** Reports written before {@code machine.tf_xla_flags} existed still read, with "" for it. */
  @Test
  void aReportWithoutTfXlaFlagsReadsAsUnset() {
    String json = sample().toJson();
    String old = json.replaceAll(",\\s*\"tf_xla_flags\"\\s*:\\s*\"[^\"]*\"", "");
    assertFalse(old.contains("tf_xla_flags"), old);
    assertEquals("", BenchReport.fromJson(old).machine().tfXlaFlags());
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
    MachineInfo m = new MachineInfo(1, "17", "2.18.0", "cpu", false, "");
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
    MachineInfo m = MachineInfo.detect();
    assertEquals(Runtime.getRuntime().availableProcessors(), m.cores());
    assertEquals(System.getProperty("java.version"), m.java());
    assertTrue(m.tensorflow().matches("\\d+\\.\\d+\\.\\d+.*"), m.tensorflow());
    assertEquals(SessionDevices.describe(), m.device(), "the device is the session's, not a literal");
  }

  @Test
  void resultsCarryTheirOwnFiguresAfterTheStandardOnes() throws Exception {
    BenchResult r = BenchResult.timed("train/dense/noxla", new Timing.Stats(10.0, 9.0, 11.0))
        .with("steps_per_s", 100.0).with("child_heap", "2g");
    BenchResult input = BenchResult.untimed("input/t5_small_batches/noxla").with("batches_per_s", 1234.5);
    BenchReport report = new BenchReport("train", new MachineInfo(1, "17", "2.18.0", "gpu:0 (79.2 GiB)", true,
        SessionConfigs.CPU_XLA_FLAGS), 0,
        List.of(r, input), Map.of());
    JsonNode root = new ObjectMapper().readTree(report.toJson());
    JsonNode first = root.get("results").get(0);
    List<String> fields = new ArrayList<>();
    first.fieldNames().forEachRemaining(fields::add);
    assertEquals(List.of("name", "ms_per_step", "steps_per_s", "child_heap"), fields);
    assertEquals("2g", first.get("child_heap").asText());
    JsonNode second = root.get("results").get(1);
    assertFalse(second.has("ms_per_step"), "an untimed result has no ms_per_step");
    assertEquals(1234.5, second.get("batches_per_s").asDouble(), 0);
    assertEquals("gpu:0 (79.2 GiB)", root.get("machine").get("device").asText());
    assertTrue(root.get("machine").get("xla_cpu_jit_flag").asBoolean());
    assertEquals(SessionConfigs.CPU_XLA_FLAGS, root.get("machine").get("tf_xla_flags").asText());
    BenchReport back = BenchReport.fromJson(report.toJson());
    assertEquals(1234.5, ((Number) back.results().get(1).figures().get("batches_per_s")).doubleValue(), 0);
    assertEquals(report.withRatio("input_over_step", 2.0).ratios(), Map.of("input_over_step", 2.0));
    assertEquals(3, report.withResult(r).results().size());
  }

  @Test
  void rejectsBadFigures() {
    BenchResult r = BenchResult.untimed("copy/plain/noxla");
    assertThrows(IllegalArgumentException.class, () -> r.with("MbPerS", 1.0));
    assertThrows(IllegalArgumentException.class, () -> r.with("gflops", 1.0), "a standard field is not a figure");
    assertThrows(IllegalArgumentException.class, () -> r.with("mb_per_s", Double.NaN));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.withTokensPerStep(10));
    assertTrue(e.getMessage().contains("copy/plain/noxla"), e.getMessage());
  }
}
