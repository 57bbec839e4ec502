package dev.upcycle.train.step;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.ckpt.RestoreReport;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.metrics.TrainListener;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.types.TFloat32;

/**
 * A run killed with SIGKILL (once between checkpoints, once in the middle of a checkpoint write)
 * and resumed gives the same per-step losses and final weights as an uninterrupted run, and every
 * checkpoint folder present loads.
 */
class ResumeTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STEPS = 12;

  static TrainConfig config(Path out) {
    return TrainConfig.defaults().withOverrides(Map.ofEntries(
        Map.entry("model.t5", "{\"d_model\":32,\"d_ff\":64,\"num_heads\":2,\"d_kv\":16,\"encoder_layers\":2,"
            + "\"decoder_layers\":2,\"vocab_size\":128,\"relative_buckets\":8,\"relative_max_distance\":16,"
            + "\"dropout\":0.0}"),
        Map.entry("moe.num_experts", "4"),
        Map.entry("batch_size", "2"), Map.entry("input_length", "8"), Map.entry("target_length", "8"),
        Map.entry("train_steps", String.valueOf(STEPS)),
        Map.entry("optimizer.adafactor.min_dim_size_to_factor", "8"),
        Map.entry("schedule.base", "0.5"), Map.entry("schedule.warmup", "4"),
        Map.entry("checkpoint_every", "3"), Map.entry("keep_checkpoints", "2"),
        Map.entry("seed", "11"), Map.entry("xla", "false"),
        Map.entry("output_dir", out.toString())));
  }

  @Test
  void killedAndResumedRunMatchesUninterruptedRun(@TempDir Path tmp) throws Exception {
    // reference: uninterrupted, in this JVM
    TrainConfig refConfig = config(tmp.resolve("ref"));
    TrainResult ref = Trainer.run(refConfig, new SyntheticBatchSource(refConfig.modelSpec(), refConfig.batchShape(),
        TFloat32.class, refConfig.seed()), Optional.empty(), false, TrainListener.NONE);
    assertEquals(STEPS, ref.finalStep());
    List<Double> refLosses = losses(tmp.resolve("ref"));
    assertEquals(STEPS, refLosses.size());

    Path run = tmp.resolve("killed");
    Path configFile = tmp.resolve("killed.json");
    Files.writeString(configFile, config(run).toJson());
    Random rnd = new Random(System.nanoTime());
    long killAt = 4 + rnd.nextInt(4); // after checkpoint 3, before checkpoint 9... at a random step in 4..7
    // 1) killed between checkpoints, after checkpoint 3 exists
    runChild(configFile, "fresh", 0, line -> line.equals("STEP " + killAt), true);
    List<Path> after1 = new CheckpointManager(run.resolve("checkpoints"), 2).list();
    assertFalse(after1.isEmpty(), "a checkpoint was written before the kill at step " + killAt);
    // 2) resumed, killed in the middle of writing the next checkpoint
    List<String> seen = runChild(configFile, "resume", 60_000, line -> line.startsWith("WRITING "), true);
    long writing = Long.parseLong(seen.get(seen.size() - 1).substring("WRITING ".length()));
    try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
      List<String> names = s.map(p -> p.getFileName().toString()).toList();
      assertTrue(names.stream().anyMatch(n -> dev.upcycle.ckpt.AtomicFolder.isStage(Path.of(n))),
          "a stage was being written: " + names);
      assertFalse(names.contains(CheckpointManager.folderName(writing)), "the interrupted checkpoint is not published");
    }
    assertAllLoad(run, refConfig);
    // 3) resumed to the end
    List<String> last = runChild(configFile, "resume", 0, line -> false, false);
    assertEquals("DONE " + STEPS, last.get(last.size() - 1));

    List<Double> losses = losses(run);
    assertEquals(STEPS, losses.size(), "one metrics line per step after truncation on resume");
    for (int i = 0; i < STEPS; i++) {
      assertEquals(refLosses.get(i), losses.get(i), 1e-6, "loss of step " + (i + 1) + " (killed at " + killAt
          + ", then while writing " + writing + ")");
    }
    try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "leftover stages removed");
    }
    List<Path> kept = new CheckpointManager(run.resolve("checkpoints"), 2).list();
    assertEquals(2, kept.size(), "keep_checkpoints = 2");
    assertEquals(STEPS, CheckpointManager.stepOf(kept.get(1)));
    assertAllLoad(run, refConfig);
    assertSameTensors(CheckpointManager.prefix(ref.checkpoints().get(1), STEPS), CheckpointManager.prefix(kept.get(1),
        STEPS));
    assertTrue(Files.readString(kept.get(1).resolve(CheckpointManager.CONFIG_FILE)).contains("\"train_steps\""));
  }

  private static void assertAllLoad(Path run, TrainConfig config) throws IOException {
    try (TrainStep<TFloat32> step = TrainStep.build(config.modelSpec(), config.batchShape(), TFloat32.class,
        Trainer.stepOptions(config)).initialize()) {
      for (Path folder : new CheckpointManager(run.resolve("checkpoints"), 2).list()) {
        RestoreReport r = CheckpointManager.restore(folder, new SessionState(step));
        assertTrue(r.fresh().isEmpty() && r.ignored().isEmpty(), folder + ": " + r);
        assertEquals(CheckpointManager.stepOf(folder), step.step(), folder.toString());
      }
    }
  }

  static void assertSameTensors(Path a, Path b) throws IOException {
    try (TfBundleReader ra = TfBundleReader.open(a); TfBundleReader rb = TfBundleReader.open(b)) {
      assertEquals(ra.tensors(), rb.tensors());
      for (TensorInfo t : ra.tensors()) {
        RawTensor x = ra.read(t.name());
        RawTensor y = rb.read(t.name());
        if (t.dtype() == dev.upcycle.ckpt.DType.FLOAT32) {
          var fx = x.data().asFloatBuffer();
          var fy = y.data().asFloatBuffer();
          for (int i = 0; i < fx.remaining(); i++) {
            assertEquals(fx.get(i), fy.get(i), 1e-6, t.name() + " element " + i);
          }
        } else {
          assertArrayEquals(x.bytes(), y.bytes(), t.name());
        }
      }
    }
  }

  static List<Double> losses(Path run) throws IOException {
    List<Double> out = new ArrayList<>();
    long expect = 1;
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      assertEquals(expect++, n.get("step").asLong(), "metrics steps in order");
      out.add(n.get("loss").asDouble());
    }
    return out;
  }

  /** Runs the child until it exits, or SIGKILLs it at the first line {@code killWhen} accepts. */
  private static List<String> runChild(Path config, String mode, long sleepMs, Predicate<String> killWhen,
      boolean expectKill) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "-Xmx2g",
        TrainProcessMain.class.getName(), config.toString(), mode, String.valueOf(sleepMs));
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    List<String> lines = new ArrayList<>();
    boolean killed = false;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
        if (killWhen.test(line)) {
          p.destroyForcibly(); // SIGKILL on Linux
          killed = true;
          break;
        }
      }
    }
    int code = p.waitFor();
    assertEquals(expectKill, killed, "child " + mode + " output: " + lines);
    if (!expectKill) {
      assertEquals(0, code, "child exit code; output: " + lines);
    } else {
      assertEquals(137, code, "killed by SIGKILL");
    }
    return lines;
  }

  static String classPath() {
    return System.getProperty("java.class.path").replace(File.pathSeparator, "\n");
  }
}
