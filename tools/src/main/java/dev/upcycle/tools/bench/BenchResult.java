package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One measured configuration. {@code name} is {@code <part>/<variant>/<xla|noxla|module>[-bf16]}
 * (auto-clustering, no XLA, the step as one module; {@code -bf16}: bfloat16 matmuls), e.g.
 * {@code mlp/dense/xla}. {@code ms_per_step} and the throughput fields are null (left out of the
 * JSON) when they do not apply; a benchmark's own figures ({@code steps_per_s}, {@code mb_per_s},
 * ...) follow them under snake_case names, in insertion order, as finite numbers or strings.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "ms_per_step", "tokens_per_s", "gflops", "fraction_of_ceiling"})
public record BenchResult(
    String name,
    @JsonProperty("ms_per_step") Timing.Stats msPerStep,
    @JsonProperty("tokens_per_s") Double tokensPerS,
    Double gflops,
    @JsonProperty("fraction_of_ceiling") Double fractionOfCeiling,
    @JsonAnyGetter @JsonAnySetter Map<String, Object> figures) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.+-]+/[A-Za-z0-9_.+-]+/(xla|noxla|module)(-bf16)?");
  private static final Pattern SNAKE = Pattern.compile("[a-z0-9]+(_[a-z0-9]+)*");
  private static final Set<String> FIELDS = Set.of("name", "ms_per_step", "tokens_per_s", "gflops",
      "fraction_of_ceiling");

  public BenchResult {
    checkArgument(name != null && NAME.matcher(name).matches(),
        "bench result name must be <part>/<variant>/<xla|noxla|module>[-bf16], got '%s'", name);
    checkFinite(name, "tokens_per_s", tokensPerS);
    checkFinite(name, "gflops", gflops);
    checkFinite(name, "fraction_of_ceiling", fractionOfCeiling);
    Map<String, Object> copy = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : (figures == null ? Map.<String, Object>of() : figures).entrySet()) {
      copy.put(e.getKey(), checkFigure(name, e.getKey(), e.getValue()));
    }
    figures = Collections.unmodifiableMap(copy);
  }

  public BenchResult(String name, Timing.Stats msPerStep, Double tokensPerS, Double gflops, Double fractionOfCeiling) {
    this(name, msPerStep, tokensPerS, gflops, fractionOfCeiling, Map.of());
  }

  /** A result with timing only. */
  public static BenchResult timed(String name, Timing.Stats msPerStep) {
    checkNotNull(msPerStep, "bench result '%s': ms_per_step", name);
    return new BenchResult(name, msPerStep, null, null, null);
  }

  /** A result without a step time, for figures of its own ({@link #with}). */
  public static BenchResult untimed(String name) {
    return new BenchResult(name, null, null, null, null);
  }

  /** The name for a part, variant and XLA setting: {@code part/variant/xla} or {@code .../noxla}. */
  public static String name(String part, String variant, boolean xla) {
    return part + "/" + variant + "/" + (xla ? "xla" : "noxla");
  }

  /** Adds {@code tokens_per_s} = tokens per step / median step time. */
  public BenchResult withTokensPerStep(double tokensPerStep) {
    checkArgument(tokensPerStep > 0, "bench result '%s': tokens per step must be > 0, got %s", name, tokensPerStep);
    return new BenchResult(name, msPerStep, tokensPerStep / (requireTime().median() / 1e3), gflops, fractionOfCeiling,
        figures);
  }

  /**
   * Adds {@code gflops} = FLOPs per step / median step time, and {@code fraction_of_ceiling} =
   * gflops / {@code ceilingGflops} (left out when the ceiling is not positive).
   */
  public BenchResult withFlopsPerStep(double flopsPerStep, double ceilingGflops) {
    checkArgument(flopsPerStep > 0, "bench result '%s': FLOPs per step must be > 0, got %s", name, flopsPerStep);
    double g = flopsPerStep / (requireTime().median() / 1e3) / 1e9;
    Double fraction = ceilingGflops > 0 ? g / ceilingGflops : null;
    return new BenchResult(name, msPerStep, tokensPerS, g, fraction, figures);
  }

  /** Adds (or replaces) a figure of this benchmark: a snake_case name and a finite number or a string. */
  public BenchResult with(String figure, Object value) {
    Map<String, Object> more = new LinkedHashMap<>(figures);
    more.put(figure, value);
    return new BenchResult(name, msPerStep, tokensPerS, gflops, fractionOfCeiling, more);
  }

  private Timing.Stats requireTime() {
    checkArgument(msPerStep != null, "bench result '%s' has no ms_per_step", name);
    return msPerStep;
  }

  private static Object checkFigure(String result, String key, Object value) {
    checkArgument(key != null && SNAKE.matcher(key).matches() && !FIELDS.contains(key),
        "bench result '%s': figure name must be snake_case and not a standard field, got '%s'", result, key);
    if (value instanceof Number n) {
      checkArgument(Double.isFinite(n.doubleValue()), "bench result '%s': figure '%s' must be finite, got %s", result,
          key, value);
      return value;
    }
    checkArgument(value instanceof String || value instanceof Boolean,
        "bench result '%s': figure '%s' must be a number, a string or a boolean, got %s", result, key, value);
    return value;
  }

  private static void checkFinite(String name, String field, Double value) {
    checkArgument(value == null || Double.isFinite(value),
        "bench result '%s': %s must be finite, got %s", name, field, value);
  }
}
