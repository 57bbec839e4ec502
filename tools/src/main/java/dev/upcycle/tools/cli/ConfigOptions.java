package dev.upcycle.tools.cli;

import dev.upcycle.train.config.TrainConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The config flags shared by {@code train} and {@code eval}: a JSON file plus key=value overrides. */
final class ConfigOptions {

  @Option(names = "--config", paramLabel = "FILE", description = "Train config JSON (docs/train-config.md); defaults when absent.")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override a config key, e.g. --set optimizer.name=adamw --set moe.num_experts=8 (repeatable).")
  List<String> overrides = List.of();

  TrainConfig resolve(Map<String, String> extra) throws IOException {
    return resolve(extra, null);
  }

  /** As {@link #resolve(Map)}, but without {@code --config} the file {@code fallback} is used when it exists. */
  TrainConfig resolve(Map<String, String> extra, Path fallback) throws IOException {
    Path file = config != null ? config : fallback != null && java.nio.file.Files.isRegularFile(fallback) ? fallback : null;
    TrainConfig c = file == null ? TrainConfig.defaults() : TrainConfig.load(file);
    Map<String, String> all = new LinkedHashMap<>();
    for (String kv : overrides) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--set expects KEY=VALUE, got '" + kv + "'");
      }
      all.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }
    all.putAll(extra);
    return all.isEmpty() ? c : c.withOverrides(all);
  }
}
