package dev.upcycle.model;

import com.google.common.collect.ImmutableMap;

/**
 * Named dense architectures. T5 v1.1 sizes are from the public gin files (PAPER.md §5); ViT-B/16
 * from the V-MoE paper configs; the tiny ones are for tests and the demo.
 */
public final class Presets {

  private Presets() {}

  private static final ImmutableMap<String, ArchitectureConfig> PRESETS =
      ImmutableMap.<String, ArchitectureConfig>builder()
          // d_model, d_ff, heads, d_kv, enc layers, dec layers, vocab, buckets, max distance, dropout
          .put("t5-tiny", new T5Config(64, 128, 4, 16, 2, 2, 1024, 32, 128, 0.0))
          .put("t5-small", new T5Config(512, 1024, 6, 64, 8, 8, T5Config.T5_VOCAB, 32, 128, 0.0))
          .put("t5-base", new T5Config(768, 2048, 12, 64, 12, 12, T5Config.T5_VOCAB, 32, 128, 0.0))
          .put("t5-large", new T5Config(1024, 2816, 16, 64, 24, 24, T5Config.T5_VOCAB, 32, 128, 0.0))
          .put("t5-xl", new T5Config(2048, 5120, 32, 64, 24, 24, T5Config.T5_VOCAB, 32, 128, 0.0))
          // image, patch, channels, classes, d_model, d_ff, heads, layers, pooling, dropout
          .put("vit-tiny", new VitConfig(32, 4, 3, 10, 192, 768, 3, 12, VitConfig.Pooling.GAP, 0.0))
          .put("vit-mnist", new VitConfig(28, 7, 1, 10, 64, 128, 4, 4, VitConfig.Pooling.GAP, 0.0))
          .put("vit-b16", new VitConfig(224, 16, 3, 1000, 768, 3072, 12, 12, VitConfig.Pooling.GAP, 0.0))
          // d_model, d_ff, heads, d_kv, layers, vocab, buckets, max distance, dropout
          .put("lm-tiny", new LmConfig(64, 128, 4, 16, 4, 1024, 32, 128, 0.0))
          .build();

  /** The preset of that name; the error lists the names there are. */
  public static ArchitectureConfig get(String name) {
    ArchitectureConfig c = PRESETS.get(name);
    if (c == null) {
      throw new IllegalArgumentException("unknown model preset '" + name + "'; known: " + PRESETS.keySet());
    }
    return c;
  }

  public static ImmutableMap<String, ArchitectureConfig> all() {
    return PRESETS;
  }
}
