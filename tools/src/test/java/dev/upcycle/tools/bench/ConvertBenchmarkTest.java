package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's baseline copies exactly the bytes asked for; its report has the DESIGN.md §9 shape. */
class ConvertBenchmarkTest {

  @TempDir Path tmp;

  @Test
  void copyWritesExactlyTheRequestedBytesRoundRobin() throws Exception {
    Path a = Files.write(tmp.resolve("a"), new byte[] {1, 2, 3, 4, 5});
    Path b = Files.write(tmp.resolve("b"), new byte[] {9, 8, 7});
    Path out = tmp.resolve("out");

    long copied = ConvertBenchmark.copyBytes(List.of(a, b), out, 14);

    assertEquals(14, copied);
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    try (Stream<Path> files = Files.list(out)) {
      for (Path p : files.sorted().toList()) {
        all.write(Files.readAllBytes(p));
      }
    }
    // 0-a, 1-b, 2-a (full: 5 + 3 + 5 = 13), then 1 byte of 3-b
    assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 9, 8, 7, 1, 2, 3, 4, 5, 9}, all.toByteArray());
  }

  @Test
  void reportGoesThroughTheBenchReportWithMediansAndRepeats() throws Exception {
    // conversion 100 MB in 1 s / 2 s / 4 s against copies of 100 MB in 1 s each
    List<ConvertBenchmark.Repeat> repeats = List.of(
        new ConvertBenchmark.Repeat(1, 100_000_000, 90_000_000, 300, 1, 100_000_000),
        new ConvertBenchmark.Repeat(2, 100_000_000, 90_000_000, 500, 1, 100_000_000),
        new ConvertBenchmark.Repeat(4, 100_000_000, 90_000_000, 400, 1, 100_000_000));
    MachineInfo machine = new MachineInfo(2, "17", "2.18.0", "cpu", false, "");
    BenchReport report = ConvertBenchmark.report(machine,
        new ConvertBenchmark.Settings(8, 2, 3, tmp, "1g", false), 50_000_000, repeats);

    JsonNode root = new ObjectMapper().readTree(report.toJson());
    assertEquals("convert", root.get("bench").asText());
    assertEquals("cpu", root.get("machine").get("device").asText());
    JsonNode results = root.get("results");
    assertEquals(List.of("convert/e8/noxla", "copy/plain/noxla", "repeat/1/noxla", "repeat/2/noxla", "repeat/3/noxla"),
        names(results));
    JsonNode conv = results.get(0);
    assertEquals(2.0, conv.get("seconds").asDouble(), 1e-12);
    assertEquals(50.0, conv.get("mb_per_s").asDouble(), 1e-9);
    assertEquals(500.0, conv.get("peak_rss_mb").asDouble(), 1e-12);
    assertEquals("1g", conv.get("child_heap").asText());
    assertEquals(100_000_000, results.get(1).get("bytes").asLong());
    assertEquals(0.25, results.get(4).get("throughput_over_copy").asDouble(), 1e-12);
    assertEquals(0.5, root.get("ratios").get("throughput_over_copy").asDouble(), 1e-12);
    assertEquals(500.0, root.get("ratios").get("peak_rss_mb").asDouble(), 1e-12);
  }

  private static List<String> names(JsonNode results) {
    List<String> out = new java.util.ArrayList<>();
    results.forEach(r -> out.add(r.get("name").asText()));
    return out;
  }
}
