package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.SparseLayout;
import dev.upcycle.plan.UpcycleOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One MoE shape and upcycling recipe of an experiment: the MoE the upcycled branch converts the
 * dense checkpoint to (and the from-scratch branch builds), with the router settings both train
 * with. The expert count and layouts are the one home of the MoE's shape: {@link #moeSettings} and
 * {@link #upcycleOptions} are both derived from them.
 *
 * @param name short name, used in branch folder names ({@code [a-z0-9_.-]+})
 * @param description what it is, in words
 * @param experts E
 * @param encoderLayout MoE layers of the encoder / ViT stack ({@code every_other}, {@code last_2}, ...)
 * @param decoderLayout MoE layers of the T5 decoder ({@code none} for single-stack models)
 * @param routerSettings {@code moe.*} config keys of the routers and losses (type, capacity, ...)
 * @param optimizerState what {@code convert} does with the dense optimizer slots
 * @param options further upcycling options (noise, Drop-Upcycling, router init)
 */
public record Variant(String name, String description, int experts, String encoderLayout, String decoderLayout,
    Map<String, String> routerSettings, UpcycleOptions.OptimizerState optimizerState,
    UnaryOperator<UpcycleOptions> options) {

  public Variant {
    checkNotNull(name, "name");
    checkArgument(name.matches("[a-z0-9_.-]+"), "variant name '%s' must match [a-z0-9_.-]+", name);
    checkNotNull(description, "description");
    checkArgument(experts >= 1, "variant %s: experts must be >= 1, got %s", name, experts);
    SparseLayout.parse(encoderLayout);
    SparseLayout.parse(decoderLayout);
    routerSettings = Map.copyOf(routerSettings);
    routerSettings.keySet().forEach(k -> checkArgument(k.startsWith("moe."),
        "variant %s: router setting %s is not a moe.* key", name, k));
    checkArgument(!routerSettings.containsKey("moe.num_experts") && !routerSettings.containsKey("moe.encoder_layout")
        && !routerSettings.containsKey("moe.decoder_layout"),
        "variant %s: experts and layouts are record components, not router settings", name);
    checkNotNull(optimizerState, "optimizerState");
    checkNotNull(options, "options");
  }

  /** This variant with another name and description and a changed field (for ablations). */
  public Variant renamed(String newName, String newDescription) {
    return new Variant(newName, newDescription, experts, encoderLayout, decoderLayout, routerSettings, optimizerState,
        options);
  }

  public Variant withExperts(int value) {
    return new Variant(name, description, value, encoderLayout, decoderLayout, routerSettings, optimizerState, options);
  }

  public Variant withEncoderLayout(String value) {
    return new Variant(name, description, experts, value, decoderLayout, routerSettings, optimizerState, options);
  }

  public Variant withDecoderLayout(String value) {
    return new Variant(name, description, experts, encoderLayout, value, routerSettings, optimizerState, options);
  }

  /** The router settings with {@code more} put over them. */
  public Variant withRouterSettings(Map<String, String> more) {
    Map<String, String> all = new LinkedHashMap<>(routerSettings);
    all.putAll(more);
    return new Variant(name, description, experts, encoderLayout, decoderLayout, all, optimizerState, options);
  }

  public Variant withOptimizerState(UpcycleOptions.OptimizerState value) {
    return new Variant(name, description, experts, encoderLayout, decoderLayout, routerSettings, value, options);
  }

  /** {@code more} applied after this variant's own options. */
  public Variant withOptions(UnaryOperator<UpcycleOptions> more) {
    UnaryOperator<UpcycleOptions> first = options;
    return new Variant(name, description, experts, encoderLayout, decoderLayout, routerSettings, optimizerState,
        o -> more.apply(first.apply(o)));
  }

  /** The {@code moe.*} config keys of this MoE (experts, layouts, then the router settings). */
  public Map<String, String> moeSettings() {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("moe.num_experts", String.valueOf(experts));
    all.put("moe.encoder_layout", encoderLayout);
    all.put("moe.decoder_layout", decoderLayout);
    all.putAll(new java.util.TreeMap<>(routerSettings));
    return all;
  }

  /** What {@code convert} is asked to do for this variant. */
  public UpcycleOptions upcycleOptions(long seed) {
    UpcycleOptions base = UpcycleOptions.defaults(experts)
        .withLayouts(SparseLayout.parse(encoderLayout), SparseLayout.parse(decoderLayout))
        .withOptimizerState(optimizerState).withSeed(seed);
    return options.apply(base);
  }
}
