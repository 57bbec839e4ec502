package dev.upcycle.inspect;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.config.SpecConfig;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The facts of a model spec that fix its tensors, as dotted config keys ({@code docs/train-config.md}
 * spelling) with their values, e.g. {@code model.t5.d_model=768}, {@code moe.num_experts=8},
 * {@code moe.encoder_layers=1,3,5}: every architecture size (not dropout), the expert count and the
 * MoE layers of each stack. Router type, capacity factor, k, renormalisation, jitter, group size
 * and loss factors do not change a tensor, so a job may set them freely; a fact that differs
 * between a checkpoint and a job's config is a {@link Contradiction}.
 */
public final class SpecFacts {

  private SpecFacts() {}

  /**
   * One key on which two descriptions disagree.
   *
   * @param key the dotted key
   * @param checkpoint the checkpoint's value
   * @param config the value the job's config (file or {@code --set}) gives
   */
  public record Contradiction(String key, String checkpoint, String config) {

    @Override
    public String toString() {
      return key + ": the checkpoint has " + checkpoint + ", the config asks for " + config;
    }
  }

  /** The facts of a spec. */
  public static SortedMap<String, String> of(ModelSpec spec) {
    checkNotNull(spec, "spec");
    SortedMap<String, String> out = new TreeMap<>();
    JsonNode model = SpecConfig.of(spec).toTree().get("model");
    flatten("model", model, out);
    out.keySet().removeIf(k -> k.endsWith(".dropout"));
    out.put("moe.num_experts", Integer.toString(spec.moe().map(m -> m.numExperts()).orElse(0)));
    int[] layers = stackSizes(spec);
    out.put("moe.encoder_layers", join(spec.encoderLayout().sparseLayers(layers[0])));
    if (spec.arch() instanceof T5Config) {
      out.put("moe.decoder_layers", join(spec.decoderLayout().sparseLayers(layers[1])));
    }
    return out;
  }

  /** The facts tensors tell about an architecture (those it could not tell are left out). */
  public static SortedMap<String, String> of(Architecture a, int relativeBuckets) {
    SortedMap<String, String> out = new TreeMap<>();
    switch (a.kind()) {
      case T5_V1_1 -> {
        put(out, "model.t5.d_model", a.dModel());
        put(out, "model.t5.d_ff", a.dFf());
        put(out, "model.t5.num_heads", a.heads());
        put(out, "model.t5.d_kv", a.heads() > 0 ? a.innerDim() / a.heads() : 0);
        put(out, "model.t5.encoder_layers", a.encoderLayers());
        put(out, "model.t5.decoder_layers", a.decoderLayers());
        put(out, "model.t5.vocab_size", a.vocab());
        put(out, "model.t5.relative_buckets", relativeBuckets);
        moe(out, a, "encoder", "moe.encoder_layers");
        moe(out, a, "decoder", "moe.decoder_layers");
      }
      case DECODER_LM -> {
        put(out, "model.lm.d_model", a.dModel());
        put(out, "model.lm.d_ff", a.dFf());
        put(out, "model.lm.num_heads", a.heads());
        put(out, "model.lm.d_kv", a.heads() > 0 ? a.innerDim() / a.heads() : 0);
        put(out, "model.lm.layers", a.decoderLayers());
        put(out, "model.lm.vocab_size", a.vocab());
        put(out, "model.lm.relative_buckets", relativeBuckets);
        moe(out, a, "decoder", "moe.encoder_layers");
      }
      case VIT -> {
        put(out, "model.vit.image_size", a.imageSize());
        put(out, "model.vit.patch_size", a.patch());
        put(out, "model.vit.channels", a.channels());
        put(out, "model.vit.num_classes", a.classes());
        put(out, "model.vit.d_model", a.dModel());
        put(out, "model.vit.d_ff", a.dFf());
        put(out, "model.vit.layers", a.encoderLayers());
        moe(out, a, "encoder", "moe.encoder_layers");
      }
      case UNKNOWN -> { }
    }
    return out;
  }

  /** The keys present in both maps whose values differ, in key order. */
  public static List<Contradiction> compare(Map<String, String> checkpoint, Map<String, String> config) {
    // a different architecture (t5 vs vit) is the one contradiction worth naming
    String kindA = kind(checkpoint);
    String kindB = kind(config);
    if (kindA != null && kindB != null && !kindA.equals(kindB)) {
      return List.of(new Contradiction("model", kindA, kindB));
    }
    List<Contradiction> out = new ArrayList<>();
    new TreeMap<>(checkpoint).forEach((k, v) -> {
      String c = config.get(k);
      if (c != null && !c.equals(v)) {
        out.add(new Contradiction(k, v, c));
      }
    });
    return out;
  }

  private static String kind(Map<String, String> facts) {
    return facts.keySet().stream().filter(k -> k.startsWith("model.")).map(k -> k.split("\\.")[1]).findFirst()
        .orElse(null);
  }

  private static void moe(SortedMap<String, String> out, Architecture a, String stack, String key) {
    var layers = a.moeLayers().getOrDefault(stack, new TreeMap<>());
    out.put(key, join(layers.keySet()));
    if (!layers.isEmpty()) {
      out.put("moe.num_experts", Integer.toString(layers.values().iterator().next()));
    } else {
      out.putIfAbsent("moe.num_experts", "0");
    }
  }

  private static int[] stackSizes(ModelSpec spec) {
    if (spec.arch() instanceof T5Config t5) {
      return new int[] {t5.encoderLayers(), t5.decoderLayers()};
    }
    if (spec.arch() instanceof dev.upcycle.model.VitConfig vit) {
      return new int[] {vit.layers(), 0};
    }
    return new int[] {((dev.upcycle.model.LmConfig) spec.arch()).layers(), 0};
  }

  private static void put(SortedMap<String, String> out, String key, int value) {
    if (value > 0) {
      out.put(key, Integer.toString(value));
    }
  }

  private static String join(Iterable<Integer> layers) {
    List<String> s = new ArrayList<>();
    layers.forEach(i -> s.add(Integer.toString(i)));
    return s.isEmpty() ? "none" : String.join(",", s);
  }

  private static void flatten(String prefix, JsonNode node, SortedMap<String, String> out) {
    if (node == null || node.isNull()) {
      return;
    }
    if (!node.isObject()) {
      out.put(prefix, node.asText());
      return;
    }
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> f = it.next();
      flatten(prefix + "." + f.getKey(), f.getValue(), out);
    }
  }

  /** One line per fact, {@code key=value}. */
  public static String describe(Map<String, String> facts) {
    return facts.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
  }
}
