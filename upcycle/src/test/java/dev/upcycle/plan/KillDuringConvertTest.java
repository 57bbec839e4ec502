package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.model.T5Config;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 in the middle of a conversion leaves nothing at the output path. The killed process's
 * stage ({@link dev.upcycle.ckpt.AtomicFolder}) stays beside it (nothing can run at kill -9); the next conversion to the same
 * output removes it because its process is gone.
 */
class KillDuringConvertTest {

  @TempDir Path tmp;

  private List<String> siblings() throws Exception {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void killedConversionLeavesNoOutputAndTheNextRunCleansUp() throws Exception {
    Path from = tmp.resolve("dense");
    // ~40 MB dense, ~200 MB converted with noise: a few seconds of work.
    SyntheticCheckpoint.writeT5(from.resolve("model.ckpt-3"), new T5Config(256, 1024, 4, 64, 4, 4, 8192, 32, 128, 0),
        DType.FLOAT32, SyntheticCheckpoint.Slots.NONE, 3, 1);
    Path to = tmp.resolve("moe");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        ConvertMain.class.getName(), from.toString(), to.toString(), "8")
        .redirectErrorStream(true).start();
    String seen = null;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        if (line.startsWith("TENSOR 5 ")) {
          seen = line;
          p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
          break;
        }
      }
    }
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertNotNull(seen, "the child wrote tensors before it was killed");
    int total = Integer.parseInt(seen.split(" ")[2]);
    assertTrue(total > 20, "killed mid-way: 5 of " + total);
    assertFalse(Files.exists(to), "nothing at the output path after kill -9");
    List<String> left = siblings();
    assertEquals(2, left.size(), "dense + the killed job's stage: " + left);
    assertTrue(left.get(0).startsWith(".moe.stage-" + p.pid() + "-"), left.toString());

    ConvertResult r = ConvertJob.run(from, to, UpcycleOptions.defaults(2), Optional.empty(), false, false,
        ProgressListener.NONE);
    assertTrue(r.written());
    assertEquals(List.of("dense", "moe"), siblings(), "the stale stage was removed");
    try (var reader = TfBundleReader.open(to)) {
      assertEquals(3, reader.read("state/step").data().getLong(0));
    }
  }
}
