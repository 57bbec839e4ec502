package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's baseline copies exactly the bytes asked for; its median is the middle value. */
class ConvertBenchmarkTest {

  @TempDir Path tmp;

  @Test
  void copyWritesExactlyTheRequestedBytesRoundRobin() throws Exception {
    Path a = Files.write(tmp.resolve("a"), new byte[] {1, 2, 3, 4, 5});
    Path b = Files.write(tmp.resolve("b"), new byte[] {9, 8, 7});
    Path out = tmp.resolve("out");

    long copied = ConvertBenchmark.copyBytes(List.of(a, b), out, 14);

    assertEquals(14, copied);
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    try (Stream<Path> files = Files.list(out)) {
      for (Path p : files.sorted().toList()) {
        all.write(Files.readAllBytes(p));
      }
    }
    // 0-a, 1-b, 2-a (full: 5 + 3 + 5 = 13), then 1 byte of 3-b
    assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 9, 8, 7, 1, 2, 3, 4, 5, 9}, all.toByteArray());
  }

  @Test
  void medianOfOddAndEvenCounts() {
    assertEquals(2.0, ConvertBenchmark.median(new double[] {3, 1, 2}));
    assertEquals(2.5, ConvertBenchmark.median(new double[] {4, 1, 3, 2}));
  }
}
