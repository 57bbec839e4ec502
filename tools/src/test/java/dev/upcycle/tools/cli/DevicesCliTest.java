package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.graph.SessionDevices;
import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code upcycle devices} lists what TF sees; {@code --device gpu} where TF sees no GPU is a clear
 * error (exit 1, the reason and the way out), not a crash. On a GPU build with a GPU the same
 * commands must succeed instead.
 */
class DevicesCliTest {

  @TempDir Path tmp;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private final boolean gpu = SessionDevices.list().stream().anyMatch(d -> d.type().equals("GPU"));

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
  }

  @Test
  void devicesListsTheCpuAndWhereAutoComputes() {
    assertEquals(0, run("devices"), err.toString());
    String o = out.toString();
    assertTrue(o.contains("cpu:0") && o.contains("/device:CPU:0"), o);
    assertTrue(o.contains("--device auto computes on: " + (gpu ? "gpu" : "cpu")), o);
  }

  @Test
  void requiringAGpuFailsClearlyWithoutOne() {
    int rc = run("devices", "--require", "gpu");
    if (gpu) {
      assertEquals(0, rc, err.toString());
      return;
    }
    assertEquals(1, rc, out + " / " + err);
    assertNoGpuMessage(err.toString());
  }

  @Test
  void trainAndBenchOnGpuWithoutOneAreClearErrors() {
    if (gpu) {
      return; // the GPU path runs in scripts/gpu-check.sh
    }
    int rc = run("train", "--synthetic", "--device", "gpu", "--steps", "1", "--output", tmp.resolve("run").toString(),
        "--set", "model.preset=t5-tiny");
    assertEquals(1, rc, out + " / " + err);
    assertNoGpuMessage(err.toString());
    assertEquals(1, run("bench", "train", "--device", "gpu", "--only", "vit-tiny"), out + " / " + err);
    assertNoGpuMessage(err.toString());
  }

  @Test
  void anUnknownDeviceNamesTheChoices() {
    assertTrue(run("devices", "--require", "tpu") != 0);
    assertTrue(err.toString().contains("cpu, gpu, auto"), err.toString());
  }

  private static void assertNoGpuMessage(String e) {
    assertTrue(e.contains("TensorFlow sees no GPU") && e.contains("-Pgpu") && e.contains("docs/gpu.md"), e);
    assertFalse(e.contains("\tat "), "a message, not a stack trace: " + e);
  }
}
