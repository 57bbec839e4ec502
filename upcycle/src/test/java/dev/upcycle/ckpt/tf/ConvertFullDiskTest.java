package dev.upcycle.ckpt.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.model.T5Config;
import dev.upcycle.plan.ConvertJob;
import dev.upcycle.plan.ProgressListener;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A disk that fills up during a conversion: a clear error and nothing at the output path. */
class ConvertFullDiskTest {

  @TempDir Path tmp;

  @Test
  void fullDiskMidwayLeavesNothingAtTheOutput() throws Exception {
    Path from = tmp.resolve("dense");
    SyntheticCheckpoint.writeT5(from.resolve("model.ckpt-9"), new T5Config(64, 256, 2, 32, 2, 2, 512, 32, 128, 0),
        DType.FLOAT32, SyntheticCheckpoint.Slots.NONE, 9, 1);
    Path to = tmp.resolve("moe");
    for (long budget : new long[] {100, 1_500_000}) {
      ConvertJob job = new ConvertJob((folder, step, format) ->
          new TfBundleWriter(folder.resolve("model.ckpt-" + step), 1 << 20, FullDisk.after(budget)));
      IOException e = assertThrows(IOException.class, () -> job.convert(from, to, UpcycleOptions.defaults(4),
          Optional.empty(), false, false, ProgressListener.NONE));
      assertTrue(e.getMessage().contains("No space left on device") && e.getMessage().contains("tensor '"),
          e.getMessage());
      assertTrue(Files.notExists(to));
      try (Stream<Path> s = Files.list(tmp)) {
        assertEquals(List.of("dense"), s.map(p -> p.getFileName().toString()).toList(), "no staging folder left");
      }
    }
  }
}
