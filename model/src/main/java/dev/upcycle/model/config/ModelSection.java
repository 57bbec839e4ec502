package dev.upcycle.model.config;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import java.util.stream.Stream;

/**
 * The dense architecture: exactly one of a preset name or an explicit T5 / ViT / LM config.
 *
 * @param preset a name from {@link Presets} ("t5-tiny", "t5-small", "vit-tiny", ...)
 * @param t5 explicit T5 v1.1 config
 * @param vit explicit ViT config
 * @param lm explicit decoder-only LM config
 */
public record ModelSection(String preset, T5Config t5, VitConfig vit, LmConfig lm) {

  public ModelSection {
    long given = Stream.of(preset, t5, vit, lm).filter(x -> x != null).count();
    checkArgument(given == 1, "model: give exactly one of preset, t5, vit or lm (got %s)", given);
    if (preset != null) {
      Presets.get(preset);
    }
  }

  public static ModelSection preset(String name) {
    return new ModelSection(name, null, null, null);
  }

  /** The explicit form of an architecture (what provenance records: no preset name to look up). */
  public static ModelSection of(ArchitectureConfig arch) {
    checkArgument(arch != null, "model: architecture is missing");
    if (arch instanceof T5Config t5) {
      return new ModelSection(null, t5, null, null);
    }
    if (arch instanceof VitConfig vit) {
      return new ModelSection(null, null, vit, null);
    }
    return new ModelSection(null, null, null, (LmConfig) arch);
  }

  public ArchitectureConfig arch() {
    if (preset != null) {
      return Presets.get(preset);
    }
    return t5 != null ? t5 : vit != null ? vit : lm;
  }
}
