package dev.upcycle.train.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.config.TrainConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A worker killed mid-run: the chief (a child JVM) stops with an error naming the task and its
 * address, exit ≠ 0, the last complete checkpoint stays; after restarting the worker, the chief
 * with resume continues with the losses of an uninterrupted cluster run (≤ 1e-6); with data
 * parallelism alone and with expert shards on the workers.
 */
class ClusterFailureTest {

  static final int STEPS = 6;
  private static final ObjectMapper JSON = new ObjectMapper();

  static Path config(Path dir, String name, int expertShards) throws Exception {
    TrainConfig c = TrainConfig.defaults().withOverrides(Map.ofEntries(
        Map.entry("model.t5", "{\"d_model\":32,\"d_ff\":64,\"num_heads\":2,\"d_kv\":16,\"encoder_layers\":2,"
            + "\"decoder_layers\":2,\"vocab_size\":128,\"relative_buckets\":8,\"relative_max_distance\":16,"
            + "\"dropout\":0.0}"),
        Map.entry("moe.num_experts", "4"), Map.entry("moe.group_size", "8"),
        Map.entry("moe.expert_shards", String.valueOf(expertShards)),
        Map.entry("batch_size", "4"), Map.entry("input_length", "8"), Map.entry("target_length", "8"),
        Map.entry("train_steps", String.valueOf(STEPS)),
        Map.entry("optimizer.adafactor.min_dim_size_to_factor", "8"),
        Map.entry("checkpoint_every", "2"), Map.entry("keep_checkpoints", "3"),
        Map.entry("seed", "11"), Map.entry("xla", "false"),
        Map.entry("output_dir", dir.resolve(name).toString())));
    Path file = dir.resolve(name + ".json");
    Files.writeString(file, c.toJson());
    return file;
  }

  /** Runs the chief until it exits; {@code onLine} sees every stdout line. Returns the lines and the exit code. */
  static List<String> chief(LoopbackCluster cluster, Path config, String mode, long pauseAt,
      Predicate<String> onLine) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx2g", "-cp", System.getProperty("java.class.path"),
        ChiefProcessMain.class.getName(), cluster.file.toString(), config.toString(), mode, String.valueOf(pauseAt));
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        lines.add(line);
        onLine.test(line);
      }
    } finally {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    lines.add("EXIT " + p.exitValue());
    return lines;
  }

  static List<Double> losses(Path run) throws Exception {
    List<Double> out = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      assertEquals(out.size() + 1, n.get("step").asLong(), "metrics steps in order");
      out.add(n.get("loss").asDouble());
    }
    return out;
  }

  /**
   * With {@code expertShards} 2 the killed worker held half of every expert weight and its
   * optimizer slots: the restarted worker's server has none of them until the resume restores
   * them from the checkpoint.
   */
  @ParameterizedTest(name = "moe.expert_shards {0}")
  @ValueSource(ints = {1, 2})
  void killedWorkerStopsTheChiefAndResumeContinuesWithTheSameLosses(int expertShards, @TempDir Path dir)
      throws Exception {
    try (LoopbackCluster cluster = LoopbackCluster.start(dir, 2)) {
      List<String> whole = chief(cluster, config(dir, "whole", expertShards), "fresh", 0, l -> true);
      assertEquals("EXIT 0", whole.get(whole.size() - 1), whole.toString());
      List<Double> want = losses(dir.resolve("whole"));
      assertEquals(STEPS, want.size());

      Path run = config(dir, "killed", expertShards);
      String address = cluster.spec.address(new ClusterSpec.Task("worker", 1));
      long[] killedAt = {0};
      List<String> failed = chief(cluster, run, "fresh", 2, line -> {
        if (line.equals("CHECKPOINT 2")) {
          cluster.kill(1);
          killedAt[0] = System.nanoTime();
        }
        return true;
      });
      double secs = (System.nanoTime() - killedAt[0]) / 1e9;
      String last = failed.get(failed.size() - 1);
      assertTrue(killedAt[0] > 0 && !last.equals("EXIT 0"), failed.toString());
      assertTrue(secs < 90, "the chief stopped " + secs + " s after the kill");
      String failure = failed.stream().filter(l -> l.startsWith("FAILED ")).findFirst().orElse("");
      assertTrue(failure.contains("worker:1 at " + address), failed.toString());
      assertFalse(failed.contains("STEP " + STEPS), "the run stopped early: " + failed);
      Path checkpoints = dir.resolve("killed").resolve("checkpoints");
      List<Path> kept = new CheckpointManager(checkpoints, 3).list();
      assertEquals(2, CheckpointManager.stepOf(kept.get(kept.size() - 1)), "last complete checkpoint: " + kept);

      cluster.restart(1);
      List<String> resumed = chief(cluster, run, "resume", 0, l -> true);
      assertEquals("EXIT 0", resumed.get(resumed.size() - 1), resumed.toString());
      List<Double> got = losses(dir.resolve("killed"));
      assertEquals(STEPS, got.size());
      for (int i = 0; i < STEPS; i++) {
        assertEquals(want.get(i), got.get(i), 1e-6, "loss of step " + (i + 1));
      }
    }
  }
}
