package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The JSON document every {@code upcycle bench <what>} prints on stdout (DESIGN.md §9):
 * <pre>{@code
 * {"bench": "model",
 *  "machine": {"cores": 2, "java": "17.0.15", "tensorflow": "2.18.0", "device": "cpu", "xla_cpu_jit_flag": false},
 *  "ceiling_gflops": 320.0,
 *  "results": [{"name": "mlp/dense/xla", "ms_per_step": {"median": .., "min": .., "max": ..},
 *               "tokens_per_s": .., "gflops": .., "fraction_of_ceiling": ..}],
 *  "ratios": {"xla_over_noxla": 0.92}}
 * }</pre>
 * Ratio keys are snake_case and keep insertion order; {@code ceiling_gflops} is 0 for a bench
 * that does not measure the ceiling ({@code convert}). Every bench command prints its report
 * through {@link #print}.
 */
@JsonPropertyOrder({"bench", "machine", "ceiling_gflops", "results", "ratios"})
public record BenchReport(
    String bench,
    MachineInfo machine,
    @JsonProperty("ceiling_gflops") double ceilingGflops,
    List<BenchResult> results,
    Map<String, Double> ratios) {

  private static final Pattern SNAKE = Pattern.compile("[a-z0-9]+(_[a-z0-9]+)*");
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public BenchReport {
    checkArgument(bench != null && !bench.isBlank(), "bench name must not be blank, got '%s'", bench);
    checkNotNull(machine, "bench '%s': machine", bench);
    checkArgument(Double.isFinite(ceilingGflops) && ceilingGflops >= 0,
        "bench '%s': ceiling_gflops must be finite and >= 0, got %s", bench, ceilingGflops);
    results = List.copyOf(checkNotNull(results, "bench '%s': results", bench));
    checkNotNull(ratios, "bench '%s': ratios", bench);
    for (Map.Entry<String, Double> e : ratios.entrySet()) {
      checkArgument(e.getKey() != null && SNAKE.matcher(e.getKey()).matches(),
          "bench '%s': ratio name must be snake_case, got '%s'", bench, e.getKey());
      checkArgument(e.getValue() != null && Double.isFinite(e.getValue()),
          "bench '%s': ratio '%s' must be finite, got %s", bench, e.getKey(), e.getValue());
    }
    ratios = Collections.unmodifiableMap(new LinkedHashMap<>(ratios));
  }

  /** This report with {@code result} added after the others. */
  public BenchReport withResult(BenchResult result) {
    List<BenchResult> more = new ArrayList<>(results);
    more.add(checkNotNull(result, "bench '%s': result", bench));
    return new BenchReport(bench, machine, ceilingGflops, more, ratios);
  }

  /** This report with ratio {@code name} added (or replaced). */
  public BenchReport withRatio(String name, double value) {
    Map<String, Double> more = new LinkedHashMap<>(ratios);
    more.put(name, value);
    return new BenchReport(bench, machine, ceilingGflops, results, more);
  }

  /** Pretty-printed JSON. */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot serialise bench report '" + bench + "'", e);
    }
  }

  /** Parses a report written by {@link #toJson()}. */
  public static BenchReport fromJson(String json) {
    try {
      return MAPPER.readValue(json, BenchReport.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a bench report: " + e.getOriginalMessage(), e);
    }
  }

  /** Writes the JSON and a newline, then flushes. */
  public void print(PrintStream out) {
    out.println(toJson());
    out.flush();
  }

  /** Writes the JSON and a newline, then flushes. */
  public void print(PrintWriter out) {
    out.println(toJson());
    out.flush();
  }
}
