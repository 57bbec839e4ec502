package dev.upcycle.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code bin/tf-log-filter} (run by {@code bin/upcycle} on the native stderr) drops TensorFlow's log lines only. */
class TfLogFilterTest {

  private static String filter(String input) throws Exception {
    Path script = Path.of("..", "bin", "tf-log-filter").toAbsolutePath().normalize();
    Process p = new ProcessBuilder("perl", script.toString()).redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.SECONDS);
    assertEquals(0, p.exitValue(), out);
    assertEquals(true, Files.isRegularFile(script), script.toString());
    return out;
  }

  @Test
  void tensorflowsInfoWarningAndErrorLinesAreDroppedEverythingElsePasses() throws Exception {
    String noise = String.join("\n",
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796166541.364076    3446 mlir_graph_optimization_pass.cc:401] MLIR V1 optimization pass is not"
            + " enabled",
        "I0000 00:00:1796166541.526011    3469 service.cc:148] XLA service 0x7f745c011ed0 initialized for platform Host",
        "W0501 12:00:00.123456      12 cpu_feature_guard.cc:210] a warning",
        "2024-05-01 12:00:00.123456: E tensorflow/core/util/util.cc:131] oneDNN supports DT_INT32 only on platforms"
            + " with AVX-512.",
        "2024-05-01 12:00:00.123456: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.") + "\n";
    String kept = "training from step 0 to 2\n\rtrain [#....]  4%\rtrain [##...]  8%\r              \r"
        + "step 2/2 loss 3.0\nF0000 00:00:1.1 1 x.cc:1] fatal: kept\nerror: boom\nI am not a log line\n"
        + "2 files left";
    assertEquals(kept, filter(noise + kept));
  }
}
