package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.regex.Pattern;

/**
 * One measured configuration. {@code name} is {@code <part>/<variant>/<xla|noxla>}, e.g.
 * {@code mlp/dense/xla}. Throughput fields are null (left out of the JSON) when they do not apply.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "ms_per_step", "tokens_per_s", "gflops", "fraction_of_ceiling"})
public record BenchResult(
    String name,
    @JsonProperty("ms_per_step") Timing.Stats msPerStep,
    @JsonProperty("tokens_per_s") Double tokensPerS,
    Double gflops,
    @JsonProperty("fraction_of_ceiling") Double fractionOfCeiling) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.+-]+/[A-Za-z0-9_.+-]+/(xla|noxla)");

  public BenchResult {
    checkArgument(name != null && NAME.matcher(name).matches(),
        "bench result name must be <part>/<variant>/<xla|noxla>, got '%s'", name);
    checkNotNull(msPerStep, "bench result '%s': ms_per_step", name);
    checkFinite(name, "tokens_per_s", tokensPerS);
    checkFinite(name, "gflops", gflops);
    checkFinite(name, "fraction_of_ceiling", fractionOfCeiling);
  }

  /** A result with timing only. */
  public static BenchResult timed(String name, Timing.Stats msPerStep) {
    return new BenchResult(name, msPerStep, null, null, null);
  }

  /** The name for a part, variant and XLA setting: {@code part/variant/xla} or {@code .../noxla}. */
  public static String name(String part, String variant, boolean xla) {
    return part + "/" + variant + "/" + (xla ? "xla" : "noxla");
  }

  /** Adds {@code tokens_per_s} = tokens per step / median step time. */
  public BenchResult withTokensPerStep(double tokensPerStep) {
    checkArgument(tokensPerStep > 0, "bench result '%s': tokens per step must be > 0, got %s", name, tokensPerStep);
    return new BenchResult(name, msPerStep, tokensPerStep / (msPerStep.median() / 1e3), gflops, fractionOfCeiling);
  }

  /**
   * Adds {@code gflops} = FLOPs per step / median step time, and {@code fraction_of_ceiling} =
   * gflops / {@code ceilingGflops} (left out when the ceiling is not positive).
   */
  public BenchResult withFlopsPerStep(double flopsPerStep, double ceilingGflops) {
    checkArgument(flopsPerStep > 0, "bench result '%s': FLOPs per step must be > 0, got %s", name, flopsPerStep);
    double g = flopsPerStep / (msPerStep.median() / 1e3) / 1e9;
    Double fraction = ceilingGflops > 0 ? g / ceilingGflops : null;
    return new BenchResult(name, msPerStep, tokensPerS, g, fraction);
  }

  private static void checkFinite(String name, String field, Double value) {
    checkArgument(value == null || Double.isFinite(value),
        "bench result '%s': %s must be finite, got %s", name, field, value);
  }
}
