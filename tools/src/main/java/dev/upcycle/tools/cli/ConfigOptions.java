package dev.upcycle.tools.cli;

import dev.upcycle.train.config.CheckpointConfig;
import dev.upcycle.train.config.TrainConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The config flags shared by {@code train} and {@code eval}: a JSON file plus key=value overrides. */
final class ConfigOptions {

  @Option(names = "--config", paramLabel = "FILE", description = "Train config JSON (docs/train-config.md); defaults when absent.")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override a config key, e.g. --set optimizer.name=adamw --set moe.num_experts=8 (repeatable).")
  List<String> overrides = List.of();

  /** The config of a job that starts from no checkpoint: {@code --config} (or the defaults) and {@code --set}. */
  TrainConfig resolve(Map<String, String> extra) throws IOException {
    checkConfigFile();
    TrainConfig c = config == null ? TrainConfig.defaults() : TrainConfig.load(config);
    Map<String, String> all = overrides(extra);
    return all.isEmpty() ? c : c.withOverrides(all);
  }

  /**
   * The config of a job that starts from {@code checkpoint}: its model from the checkpoint, the
   * rest from {@code --config} (or, with {@code recordedRunConfig}, the run config recorded beside
   * it) and {@code --set}; see {@link CheckpointConfig}.
   */
  TrainConfig resolveFor(Path checkpoint, Map<String, String> extra, boolean recordedRunConfig) throws IOException {
    checkConfigFile();
    return CheckpointConfig.resolve(checkpoint, Optional.ofNullable(config), overrides(extra), recordedRunConfig)
        .config();
  }

  private void checkConfigFile() {
    if (config != null) {
      InputFiles.check("--config", config);
    }
  }

  private Map<String, String> overrides(Map<String, String> extra) {
    Map<String, String> all = new LinkedHashMap<>();
    for (String kv : overrides) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--set expects KEY=VALUE, got '" + kv + "'");
      }
      all.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }
    all.putAll(extra);
    return all;
  }

}
