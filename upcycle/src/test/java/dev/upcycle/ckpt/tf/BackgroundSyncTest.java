package dev.upcycle.ckpt.tf;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Background fsyncs start once enough bytes have gathered and report their failures. */
class BackgroundSyncTest {

  @TempDir Path tmp;

  @Test
  void belowTheThresholdNothingRuns() throws Exception {
    try (BackgroundSync sync = new BackgroundSync(100)) {
      // the file does not exist: an fsync of it would fail, so none may have started
      sync.wrote(tmp.resolve("missing"), 99);
      sync.await();
    }
  }

  @Test
  void aFailedFsyncIsRethrownNamingTheFile() throws Exception {
    Path missing = tmp.resolve("missing");
    try (BackgroundSync sync = new BackgroundSync(100)) {
      sync.wrote(missing, 60);
      sync.wrote(missing, 60); // 120 >= 100: an fsync starts and fails
      IOException e = assertThrows(IOException.class, sync::await);
      assertTrue(e instanceof NoSuchFileException && e.getMessage().contains("missing"), e.toString());
    }
  }

  @Test
  void aFailureSurfacesAtTheNextWriteOnceFinished() throws Exception {
    Path missing = tmp.resolve("missing");
    Path real = Files.write(tmp.resolve("real"), new byte[10]);
    try (BackgroundSync sync = new BackgroundSync(1)) {
      sync.wrote(missing, 1);
      // keep reporting writes until the failed fsync has finished and is rethrown
      IOException e = assertThrows(IOException.class, () -> {
        for (long deadline = System.nanoTime() + 10_000_000_000L; System.nanoTime() < deadline; ) {
          sync.wrote(real, 1);
          Thread.sleep(1);
        }
      });
      assertTrue(e.getMessage().contains("missing"), e.toString());
    }
  }

  @Test
  void syncsOfARealFileSucceed() throws Exception {
    Path real = Files.write(tmp.resolve("real"), new byte[1000]);
    try (BackgroundSync sync = new BackgroundSync(10)) {
      for (int i = 0; i < 20; i++) {
        sync.wrote(real, 50);
      }
      sync.await();
    }
  }
}
