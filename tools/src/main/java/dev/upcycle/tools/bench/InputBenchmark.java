package dev.upcycle.tools.bench;

import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.train.data.Compression;
import dev.upcycle.train.data.ExampleCodec;
import dev.upcycle.train.data.TfRecordWriter;
import dev.upcycle.train.input.ExampleKind;
import dev.upcycle.train.input.TfRecordBatchSource;
import dev.upcycle.train.step.Batch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * How fast {@link TfRecordBatchSource} delivers T5 batches (TFRecord read, CRC checks, Example
 * parsing, shuffling, padding, tensor creation) when nothing else waits on it: batches per second
 * over a synthetic file of token examples written to a temporary folder.
 */
public final class InputBenchmark {

  private InputBenchmark() {}

  /** Batches per second for {@code shape}, measured over {@code batches} batches after a warm-up. */
  public static double t5BatchesPerSecond(BatchShape shape, int batches) throws IOException {
    Path dir = Files.createTempDirectory("input-bench-");
    try {
      Path file = dir.resolve("tokens.tfrecord");
      SplittableRandom rnd = new SplittableRandom(1);
      int records = Math.max(4096, shape.batch() * 64);
      try (TfRecordWriter w = TfRecordWriter.create(file, Compression.GZIP)) {
        for (int i = 0; i < records; i++) {
          int[] in = new int[shape.inputLength() - rnd.nextInt(Math.max(1, shape.inputLength() / 4))];
          int[] out = new int[shape.targetLength() - rnd.nextInt(Math.max(1, shape.targetLength() / 4))];
          for (int j = 0; j < in.length; j++) {
            in[j] = 2 + rnd.nextInt(32000);
          }
          for (int j = 0; j < out.length; j++) {
            out[j] = 2 + rnd.nextInt(32000);
          }
          w.write(ExampleCodec.tokens(in, out));
        }
      }
      try (TfRecordBatchSource src = new TfRecordBatchSource(
          TfRecordBatchSource.Options.tokens(List.of(file), ExampleKind.T5, shape, 3))) {
        for (int s = 0; s < 5; s++) {
          src.nextBatch(s).close();
        }
        long t0 = System.nanoTime();
        for (int s = 5; s < 5 + batches; s++) {
          try (Batch b = src.nextBatch(s)) {
            b.features();
          }
        }
        return batches / ((System.nanoTime() - t0) / 1e9);
      }
    } finally {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
