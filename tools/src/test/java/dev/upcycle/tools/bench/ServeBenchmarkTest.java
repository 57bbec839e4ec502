package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench serve --quick --eval-capacity-factor 1} end to end in this JVM: one JSON report on
 * stdout with the fourteen results (per model: the interleaved single client of dense, MoE and the MoE
 * exported with eval capacity factor 1, all with the same number of rounds; then dense and MoE with
 * concurrent clients, batching off and on), each with its request count and latency figures, and the
 * twenty ratios consistent with the results (the paired ratios within the bounds the single results'
 * minima and maxima give, the eval export computing fewer FLOPs than the trained MoE); the scratch
 * folder is removed. Nothing is asserted on time.
 */
class ServeBenchmarkTest {

  @TempDir Path tmp;

  @Test
  void quickPrintsTheServeReport() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(new String[] {"bench", "serve", "--quick", "--eval-capacity-factor", "1",
        "--dir", tmp.toString()},
        new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
    assertEquals(0, code, err.toString());
    BenchReport report = BenchReport.fromJson(out.toString());
    ServeBenchmark.Settings quick = ServeBenchmark.Settings.quick(tmp);
    assertEquals("serve", report.bench());
    List<String> expected = new ArrayList<>();
    for (String preset : new String[] {quick.vitPreset(), quick.t5Preset()}) {
      for (String variant : new String[] {"dense", "moe", "moe_eval"}) {
        expected.add(preset + "/" + variant + "_single/noxla");
      }
      for (String variant : new String[] {"dense", "moe"}) {
        for (String part : new String[] {"concurrent_off", "concurrent_on"}) {
          expected.add(preset + "/" + variant + "_" + part + "/noxla");
        }
      }
    }
    assertEquals(expected, report.results().stream().map(BenchResult::name).toList());
    for (BenchResult r : report.results()) {
      boolean single = r.name().contains("_single/");
      int clients = single ? 1 : quick.clients();
      int requests = single ? quick.singleRequests() : quick.clients() * quick.requestsPerClient();
      assertEquals(clients, ((Number) r.figures().get("clients")).intValue(), r.name());
      assertEquals(requests, ((Number) r.figures().get("requests")).intValue(), r.name());
      assertEquals(r.name().contains("_on/"), r.figures().get("batching"), r.name());
      assertEquals(single ? Boolean.TRUE : null, r.figures().get("interleaved"), r.name());
      double p50 = ((Number) r.figures().get("p50_ms")).doubleValue();
      double p99 = ((Number) r.figures().get("p99_ms")).doubleValue();
      assertTrue(p50 > 0 && p50 <= p99 && p99 <= r.msPerStep().max(), r.toString());
      assertTrue(((Number) r.figures().get("requests_per_s")).doubleValue() > 0, r.toString());
      if (r.name().contains("_on/")) {
        assertEquals(requests + quick.clients() * quick.warmup(),
            ((Number) r.figures().get("batching_requests")).intValue(), "warm-up and timed requests batched: " + r);
        long runs = ((Number) r.figures().get("runs")).longValue();
        assertTrue(runs >= 1 && runs <= requests + quick.clients() * quick.warmup(), r.toString());
      }
    }
    List<String> ratios = new ArrayList<>();
    for (String kind : new String[] {"vit", "t5"}) {
      ratios.addAll(List.of(kind + "_moe_over_dense_p50_single", kind + "_moe_over_dense_p50_single_paired",
          kind + "_moe_over_dense_flops", kind + "_moe_over_dense_p50_single_per_flop",
          kind + "_dense_batching_on_over_off_throughput", kind + "_moe_batching_on_over_off_throughput",
          kind + "_moe_eval_over_dense_p50_single", kind + "_moe_eval_over_dense_p50_single_paired",
          kind + "_moe_eval_over_dense_flops", kind + "_moe_eval_over_dense_p50_single_per_flop"));
    }
    assertEquals(ratios, List.copyOf(report.ratios().keySet()));
    assertEquals(p50(report, 2) / p50(report, 0), report.ratios().get("vit_moe_eval_over_dense_p50_single"), 1e-9);
    assertEquals(1.0, report.results().get(2).figures().get("eval_capacity_factor"));
    assertEquals(p50(report, 1) / p50(report, 0), report.ratios().get("vit_moe_over_dense_p50_single"), 1e-9);
    assertEquals(p50(report, 8) / p50(report, 7), report.ratios().get("t5_moe_over_dense_p50_single"), 1e-9);
    for (int first : new int[] {0, 7}) { // dense, moe, moe_eval single of one model
      String kind = first == 0 ? "vit" : "t5";
      for (int v = 1; v <= 2; v++) {
        BenchResult dense = report.results().get(first);
        BenchResult other = report.results().get(first + v);
        assertEquals(dense.figures().get("requests"), other.figures().get("requests"), other.name());
        String name = kind + (v == 1 ? "_moe" : "_moe_eval") + "_over_dense_p50_single_paired";
        double paired = report.ratios().get(name);
        // each round's ratio lies in [other's min / dense's max, other's max / dense's min], so does their median
        assertTrue(Double.isFinite(paired) && paired > 0
            && paired >= other.msPerStep().min() / dense.msPerStep().max() * (1 - 1e-9)
            && paired <= other.msPerStep().max() / dense.msPerStep().min() * (1 + 1e-9), name + " " + paired);
      }
    }
    for (String kind : new String[] {"vit", "t5"}) {
      double flops = report.ratios().get(kind + "_moe_over_dense_flops");
      assertTrue(flops > 1, kind + ": the upcycled model computes more than the dense one: " + flops);
      assertEquals(report.ratios().get(kind + "_moe_over_dense_p50_single") / flops,
          report.ratios().get(kind + "_moe_over_dense_p50_single_per_flop"), 1e-9);
      double evalFlops = report.ratios().get(kind + "_moe_eval_over_dense_flops");
      assertTrue(evalFlops < flops, kind + ": C 1 computes less than the trained C: " + evalFlops + " vs " + flops);
      assertEquals(report.ratios().get(kind + "_moe_eval_over_dense_p50_single") / evalFlops,
          report.ratios().get(kind + "_moe_eval_over_dense_p50_single_per_flop"), 1e-9);
    }
    assertEquals(rate(report, 4) / rate(report, 3), report.ratios().get("vit_dense_batching_on_over_off_throughput"),
        1e-9);
    assertEquals(rate(report, 13) / rate(report, 12), report.ratios().get("t5_moe_batching_on_over_off_throughput"),
        1e-9);
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.toList(), "the scratch folder is removed");
    }
  }

  private static double p50(BenchReport r, int i) {
    return ((Number) r.results().get(i).figures().get("p50_ms")).doubleValue();
  }

  private static double rate(BenchReport r, int i) {
    return ((Number) r.results().get(i).figures().get("requests_per_s")).doubleValue();
  }
}
