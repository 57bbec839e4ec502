package dev.upcycle.train.input;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.train.data.ShuffledShardedSource;
import dev.upcycle.train.data.TfRecordReader;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.BatchSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Batches from TFRecord files: worker sharding and seeded shuffling by
 * {@link ShuffledShardedSource}, epochs repeat forever, batch {@code s} holds records
 * {@code s·B … s·B + B − 1} of that endless sequence, so it is a function of (seed, s) and a
 * resumed job gets the same batches. A background thread reads and assembles up to
 * {@code prefetch} batches ahead; asking for a step out of order restarts it at that step.
 */
public final class TfRecordBatchSource implements BatchSource {

  /**
   * Where the records are and how to read them. {@code idBound} is the model's vocabulary size
   * (token data) or number of classes (images): every token id and label must lie in
   * {@code [0, idBound)}, checked as each batch is assembled, before the step that would use it
   * (XLA's gather clamps ids out of range instead of failing); 0 checks nothing.
   */
  public record Options(List<Path> files, ExampleKind kind, BatchShape shape, int imageHeight, int imageWidth,
      int imageChannels, int workerIndex, int workerCount, long seed, int shuffleBuffer, int prefetch, int idBound) {
    public Options {
      checkArgument(!files.isEmpty(), "no TFRecord files given");
      checkNotNull(kind, "kind");
      checkNotNull(shape, "shape");
      checkArgument(prefetch >= 1, "prefetch must be >= 1, got %s", prefetch);
      checkArgument(shuffleBuffer >= 1, "shuffleBuffer must be >= 1, got %s", shuffleBuffer);
      checkArgument(idBound >= 0, "idBound must be >= 0, got %s", idBound);
      files = List.copyOf(files);
    }

    /** Token data (T5 or LM), one worker, shuffle buffer 4096, 4 batches ahead, ids not checked. */
    public static Options tokens(List<Path> files, ExampleKind kind, BatchShape shape, long seed) {
      return new Options(files, kind, shape, 0, 0, 0, 0, 1, seed, 4096, 4, 0);
    }

    /** Image data of the given size, one worker, shuffle buffer 4096, 4 batches ahead, labels not checked. */
    public static Options images(List<Path> files, BatchShape shape, int height, int width, int channels, long seed) {
      return new Options(files, ExampleKind.IMAGES, shape, height, width, channels, 0, 1, seed, 4096, 4, 0);
    }

    /**
     * The records a model of {@code arch} trains on: its example kind, image size, and token ids
     * checked against its vocabulary or labels against its classes.
     */
    public static Options forModel(List<Path> files, ArchitectureConfig arch, BatchShape shape, long seed) {
      if (arch instanceof VitConfig v) {
        return images(files, shape, v.imageSize(), v.imageSize(), v.channels(), seed).withIdBound(v.numClasses());
      } else if (arch instanceof T5Config t) {
        return tokens(files, ExampleKind.T5, shape, seed).withIdBound(t.vocabSize());
      } else if (arch instanceof LmConfig l) {
        return tokens(files, ExampleKind.LM, shape, seed).withIdBound(l.vocabSize());
      }
      throw new IllegalArgumentException("no TFRecord input for the architecture " + arch);
    }

    public Options withShuffleBuffer(int value) {
      return new Options(files, kind, shape, imageHeight, imageWidth, imageChannels, workerIndex, workerCount, seed,
          value, prefetch, idBound);
    }

    /** The same records with token ids or labels checked against {@code [0, bound)}. */
    public Options withIdBound(int bound) {
      return new Options(files, kind, shape, imageHeight, imageWidth, imageChannels, workerIndex, workerCount, seed,
          shuffleBuffer, prefetch, bound);
    }
  }

  private static final Batch END = new Batch(java.util.Map.of());

  private final Options options;
  private final BatchAssembler assembler;
  private final long recordsPerEpoch;
  private Producer producer;
  private long nextStep = -1;

  public TfRecordBatchSource(Options options) throws IOException {
    this.options = checkNotNull(options, "options");
    this.assembler = new BatchAssembler(options.kind(), options.shape(), options.imageHeight(), options.imageWidth(),
        options.imageChannels(), options.idBound());
    long n = 0;
    for (Path f : ShuffledShardedSource.filesForWorker(options.files(), options.workerIndex(), options.workerCount())) {
      try (TfRecordReader r = TfRecordReader.open(f)) {
        while (r.readNext() != null) {
          n++;
        }
      }
    }
    checkArgument(n > 0, "the TFRecord files of worker %s hold no records: %s", options.workerIndex(), options.files());
    this.recordsPerEpoch = n;
  }

  /** Records this worker sees per epoch. */
  public long recordsPerEpoch() {
    return recordsPerEpoch;
  }

  @Override
  public Batch nextBatch(long step) {
    checkArgument(step >= 0, "step must be >= 0, got %s", step);
    if (producer == null || step != nextStep) {
      stopProducer();
      producer = new Producer(step);
      producer.start();
    }
    nextStep = step + 1;
    return producer.take();
  }

  @Override
  public void close() {
    stopProducer();
  }

  private void stopProducer() {
    if (producer != null) {
      producer.shutdown();
      producer = null;
    }
  }

  /** Reads and assembles batches from a start step on, into a bounded queue. */
  private final class Producer extends Thread {
    private final long firstStep;
    private final BlockingQueue<Batch> queue;
    private volatile boolean stop;
    private volatile RuntimeException failure;

    Producer(long firstStep) {
      super("tfrecord-batches");
      setDaemon(true);
      this.firstStep = firstStep;
      this.queue = new ArrayBlockingQueue<>(options.prefetch());
    }

    @Override
    public void run() {
      long b = options.shape().batch();
      long first = firstStep * b;
      ShuffledShardedSource.Position start = new ShuffledShardedSource.Position(first / recordsPerEpoch,
          first % recordsPerEpoch);
      ShuffledShardedSource.Config config = new ShuffledShardedSource.Config(options.files(), options.workerIndex(),
          options.workerCount(), options.seed(), options.shuffleBuffer(), 0);
      try (ShuffledShardedSource source = new ShuffledShardedSource(config, start)) {
        while (!stop) {
          List<ShuffledShardedSource.Record> records = new ArrayList<>((int) b);
          for (int i = 0; i < b; i++) {
            ShuffledShardedSource.Record r = source.next();
            if (r == null) {
              throw new IllegalStateException("the endless record source ended");
            }
            records.add(r);
          }
          Batch batch = assembler.assemble(records);
          while (!stop && !queue.offer(batch, 100, TimeUnit.MILLISECONDS)) {
            // wait for room
          }
          if (stop) {
            batch.close();
          }
        }
      } catch (IOException e) {
        failure = new UncheckedIOException(e);
      } catch (RuntimeException e) {
        failure = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        if (failure != null) {
          queue.offer(END);
        }
      }
    }

    Batch take() {
      try {
        while (true) {
          Batch batch = queue.poll(100, TimeUnit.MILLISECONDS);
          if (batch == END || (batch == null && failure != null && queue.isEmpty())) {
            throw failure;
          }
          if (batch != null) {
            return batch;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for input", e);
      }
    }

    void shutdown() {
      stop = true;
      interrupt();
      try {
        join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Batch b;
      while ((b = queue.poll()) != null) {
        if (b != END) {
          b.close();
        }
      }
    }
  }
}
