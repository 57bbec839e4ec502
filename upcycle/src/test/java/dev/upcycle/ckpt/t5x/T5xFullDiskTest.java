package dev.upcycle.ckpt.t5x;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointWriter;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.OutputWriteException;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.names.T5xNames;
import dev.upcycle.model.T5Config;
import dev.upcycle.plan.ConvertJob;
import dev.upcycle.plan.ProgressListener;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up while {@code convert --format t5x} writes (issue 14): the error names the
 * tensor and the file, says the partial output was removed, and nothing is left at the output.
 */
class T5xFullDiskTest {

  @TempDir Path tmp;

  /** Files whose writes fail like a full disk once {@code budget} bytes are written in total. */
  private static T5xCheckpointWriter.FileSink fullAfter(long budget, AtomicLong written) {
    return file -> new FilterOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW)) {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        long left = budget - written.get();
        if (len > left) {
          out.write(b, off, (int) Math.max(0, left));
          written.addAndGet(Math.max(0, left));
          throw new IOException("No space left on device");
        }
        written.addAndGet(len);
        out.write(b, off, len);
      }
    };
  }

  /** ConvertJob's T5X writer (canonical names renamed to T5X's) writing through {@code sink}. */
  private static ConvertJob job(T5xCheckpointWriter.FileSink sink) {
    return new ConvertJob((folder, step, format) -> {
      T5xCheckpointWriter w = T5xCheckpointWriter.create(
          Files.createDirectory(T5xCheckpointWriter.checkpointDir(folder, step)),
          T5xCheckpointWriter.DEFAULT_MAX_CHUNK_BYTES, sink);
      return new CheckpointWriter() {
        @Override
        public void write(RawTensor tensor) throws IOException {
          w.write(tensor.withName(T5xNames.toT5x().apply(tensor.name()).orElseThrow()));
        }

        @Override
        public void commit() throws IOException {
          w.commit();
        }

        @Override
        public void close() {
          w.close();
        }
      };
    });
  }

  @Test
  void fullDiskNamesTheFileAndRemovesThePartialOutput() throws Exception {
    Path from = tmp.resolve("dense");
    SyntheticCheckpoint.writeT5(from.resolve("model.ckpt-9"), new T5Config(64, 256, 2, 32, 2, 2, 512, 32, 128, 0),
        DType.FLOAT32, SyntheticCheckpoint.Slots.NONE, 9, 1);
    UpcycleOptions options = UpcycleOptions.defaults(4).withOutputFormat(UpcycleOptions.OutputFormat.T5X);
    // a good run tells how many bytes the whole output takes
    AtomicLong total = new AtomicLong();
    Path good = tmp.resolve("good");
    job(fullAfter(Long.MAX_VALUE, total)).convert(from, good, options, Optional.empty(), false, false,
        ProgressListener.NONE);
    long msgpack = Files.size(good.resolve("checkpoint_9/checkpoint"));

    record Case(long budget, String file) {}
    for (Case c : List.of(new Case(10, ".zarray"), new Case(total.get() / 2, ""),
        new Case(total.get() - msgpack / 2, "checkpoint_9/checkpoint"))) {
      Path to = tmp.resolve("moe");
      OutputWriteException e = assertThrows(OutputWriteException.class, () -> job(fullAfter(c.budget(), new AtomicLong()))
          .convert(from, to, options, Optional.empty(), false, false, ProgressListener.NONE), "budget " + c.budget());
      String m = e.getMessage();
      assertTrue(m.contains("No space left on device") && m.contains("could not be written to " + e.file()), m);
      assertTrue(e.file().toString().endsWith(c.file()), e.file() + " for budget " + c.budget());
      assertTrue(m.contains(c.file().endsWith("checkpoint") ? "the msgpack file" : "tensor '"), m);
      assertTrue(m.contains("the partial output was removed, nothing was written to " + to.toAbsolutePath()), m);
      assertTrue(Files.notExists(to), "nothing at the output");
      try (Stream<Path> s = Files.list(tmp)) {
        assertEquals(List.of("dense", "good"), s.map(p -> p.getFileName().toString()).sorted().toList(),
            "no stage left");
      }
    }
  }

  @Test
  void aFailedWriterRefusesToGoOn() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("checkpoint_1"));
    T5xCheckpointWriter w = T5xCheckpointWriter.create(dir, 1 << 20, fullAfter(0, new AtomicLong()));
    RawTensor t = new RawTensor(new dev.upcycle.ckpt.TensorInfo("target/w", DType.FLOAT32, new long[] {2}),
        java.nio.ByteBuffer.allocate(8));
    OutputWriteException e = assertThrows(OutputWriteException.class, () -> w.write(t));
    assertEquals(dir.toAbsolutePath().resolve("target.w/.zarray"), e.file());
    assertTrue(e.getMessage().contains("writing T5X checkpoint " + dir.toAbsolutePath() + ": tensor 'target/w'"),
        e.getMessage());
    assertThrows(IllegalStateException.class, w::commit);
  }
}
