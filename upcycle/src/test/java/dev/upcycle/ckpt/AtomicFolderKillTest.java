package dev.upcycle.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a child JVM that keeps republishing a folder through {@link AtomicFolder}, at random
 * points (while files are written, fsynced, renamed): the target is then absent or one complete
 * generation, never a mix, and the next stage removes what the killed process left (or puts back
 * the old folder it had moved aside).
 */
class AtomicFolderKillTest {

  @TempDir Path tmp;

  @Test
  void killedAnywhereLeavesTheTargetAbsentOrCompleteAndTheNextStageCleansUp() throws Exception {
    Path target = tmp.resolve("out");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Random random = new Random(8);
    int leftovers = 0;
    int commitsSeen = 0;
    for (int round = 0; round < 6; round++) {
      Process p = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
          AtomicFolderChild.class.getName(), "publish", target.toString()).redirectErrorStream(true).start();
      int committed = 0;
      try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        assertEquals("STARTED", out.readLine());
        long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(1200));
        while (System.nanoTime() < killAt) {
          if (out.ready()) {
            String line = out.readLine();
            assertTrue(line.startsWith("COMMITTED "), line);
            committed = Integer.parseInt(line.substring("COMMITTED ".length()));
          } else {
            Thread.sleep(1);
          }
        }
        p.destroyForcibly(); // SIGKILL: no finally blocks, no shutdown hooks
      }
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      commitsSeen += committed;

      if (Files.exists(target)) {
        int gen = AtomicFolderChild.check(target);
        assertTrue(gen >= committed, "round " + round + ": generation " + gen + " after " + committed + " commits");
      }
      List<Path> left = hidden();
      leftovers += left.size();
      try (AtomicFolder next = AtomicFolder.stage(target, true)) {
        assertEquals(List.of(next.path()), hidden(), "round " + round + ": the killed process's " + left + " removed");
      }
      assertEquals(List.of(), hidden());
      if (Files.exists(target)) {
        AtomicFolderChild.check(target); // an old folder put back is complete too
      }
    }
    assertTrue(leftovers > 0, "some kill left a stage behind (else the test saw no kill mid-write)");
    assertTrue(commitsSeen > 0, "some child published before it was killed");
  }

  private List<Path> hidden() throws Exception {
    try (Stream<Path> s = Files.list(tmp)) {
      return new ArrayList<>(s.filter(AtomicFolder::isStage).toList());
    }
  }
}
