package dev.upcycle.train.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic, resumable reading of TFRecord files for one worker of many.
 *
 * <ul>
 *   <li>Sharding by file: the files, sorted by path, are dealt round-robin; worker {@code w} of
 *       {@code n} reads files {@code w, w + n, w + 2n, ...}. Workers get disjoint sets that
 *       together cover every file.
 *   <li>Each epoch the worker's files are visited in an order shuffled with
 *       {@code (seed, epoch, worker)}, and records pass through a shuffle buffer of
 *       {@code shuffleBuffer} records (1 = file order): the buffer is kept full, and each output
 *       is a uniformly chosen buffered record, using a generator seeded from
 *       {@code (seed, epoch, worker)}.
 *   <li>A {@link Position} is {@code (epoch, records already returned in that epoch)}. Opening
 *       at a position replays that epoch from its start and drops the first records, so the
 *       sequence from there on is exactly the one an uninterrupted reader would give.
 * </ul>
 */
public final class ShuffledShardedSource implements Closeable {

  /** Reading settings; {@code epochs == 0} means no end. */
  public record Config(List<Path> files, int workerIndex, int workerCount, long seed,
      int shuffleBuffer, int epochs) {
    public Config {
      checkNotNull(files, "files");
      files = List.copyOf(files);
      checkArgument(!files.isEmpty(), "no TFRecord files given");
      checkArgument(workerCount >= 1, "workerCount %s must be >= 1", workerCount);
      checkArgument(workerIndex >= 0 && workerIndex < workerCount,
          "workerIndex %s must be in [0, %s)", workerIndex, workerCount);
      checkArgument(files.size() >= workerCount,
          "%s files cannot be sharded over %s workers (each worker needs at least one file)",
          files.size(), workerCount);
      checkArgument(shuffleBuffer >= 1, "shuffleBuffer %s must be >= 1", shuffleBuffer);
      checkArgument(epochs >= 0, "epochs %s must be >= 0 (0 = endless)", epochs);
    }
  }

  /** Where a reader stands: epoch and records already returned in it. */
  public record Position(long epoch, long recordsInEpoch) {
    public Position {
      checkArgument(epoch >= 0, "epoch %s must be >= 0", epoch);
      checkArgument(recordsInEpoch >= 0, "recordsInEpoch %s must be >= 0", recordsInEpoch);
    }

    public static final Position START = new Position(0, 0);
  }

  /** One record and where it came from (for error messages). */
  public record Record(byte[] data, Path file, long index) {}

  private final Config config;
  private final List<Path> myFiles;
  private long epoch;
  private long returnedInEpoch;
  private List<Path> epochFiles;
  private int nextFile;
  private TfRecordReader reader;
  private SplittableRandom bufferRng;
  private final List<Record> buffer = new ArrayList<>();
  private boolean done;

  /** Opens the source at {@code start} (replaying the start of that epoch). */
  public ShuffledShardedSource(Config config, Position start) throws IOException {
    this.config = checkNotNull(config, "config");
    checkNotNull(start, "start");
    this.myFiles = filesForWorker(config.files(), config.workerIndex(), config.workerCount());
    checkArgument(config.epochs() == 0 || start.epoch() <= config.epochs(),
        "start epoch %s is past the last epoch %s", start.epoch(), config.epochs());
    beginEpoch(start.epoch());
    for (long i = 0; i < start.recordsInEpoch(); i++) {
      if (next() == null || epoch != start.epoch()) {
        throw new IllegalArgumentException(String.format(
            "position %s is past the end of epoch %d (worker %d has %d records per epoch)",
            start, start.epoch(), config.workerIndex(), i));
      }
    }
  }

  /** The files worker {@code workerIndex} of {@code workerCount} reads (sorted, round-robin). */
  public static List<Path> filesForWorker(List<Path> files, int workerIndex, int workerCount) {
    List<Path> sorted = new ArrayList<>(files);
    sorted.sort(Comparator.comparing(Path::toString));
    List<Path> mine = new ArrayList<>();
    for (int i = workerIndex; i < sorted.size(); i += workerCount) {
      mine.add(sorted.get(i));
    }
    return List.copyOf(mine);
  }

  /** This worker's files. */
  public List<Path> files() {
    return myFiles;
  }

  /** Position of the next record to be returned. */
  public Position position() {
    return new Position(epoch, returnedInEpoch);
  }

  /** The next record, or {@code null} after the last epoch. */
  public Record next() throws IOException {
    while (!done) {
      fillBuffer();
      if (!buffer.isEmpty()) {
        int j = buffer.size() == 1 ? 0 : bufferRng.nextInt(buffer.size());
        Record r = buffer.get(j);
        buffer.set(j, buffer.get(buffer.size() - 1));
        buffer.remove(buffer.size() - 1);
        returnedInEpoch++;
        return r;
      }
      if (returnedInEpoch == 0) {
        throw new IOException("the files of worker " + config.workerIndex() + " hold no records: "
            + myFiles);
      }
      if (config.epochs() != 0 && epoch + 1 >= config.epochs()) {
        done = true;
        epoch++;
        returnedInEpoch = 0;
        return null;
      }
      beginEpoch(epoch + 1);
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    if (reader != null) {
      reader.close();
      reader = null;
    }
  }

  private void beginEpoch(long e) throws IOException {
    close();
    epoch = e;
    returnedInEpoch = 0;
    buffer.clear();
    done = config.epochs() != 0 && e >= config.epochs();
    SplittableRandom fileRng = new SplittableRandom(mix(config.seed(), e, config.workerIndex(), 1));
    List<Path> order = new ArrayList<>(myFiles);
    for (int i = order.size() - 1; i > 0; i--) {
      int j = fileRng.nextInt(i + 1);
      Path t = order.get(i);
      order.set(i, order.get(j));
      order.set(j, t);
    }
    epochFiles = order;
    nextFile = 0;
    bufferRng = new SplittableRandom(mix(config.seed(), e, config.workerIndex(), 2));
  }

  private void fillBuffer() throws IOException {
    while (buffer.size() < config.shuffleBuffer()) {
      if (reader == null) {
        if (nextFile >= epochFiles.size()) {
          return;
        }
        reader = TfRecordReader.open(epochFiles.get(nextFile++));
      }
      long index = reader.recordIndex();
      byte[] data = reader.readNext();
      if (data == null) {
        close();
        continue;
      }
      buffer.add(new Record(data, reader.file(), index));
    }
  }

  private static long mix(long seed, long epoch, long worker, long stream) {
    long h = seed * 0x9E3779B97F4A7C15L;
    h = murmur(h ^ epoch);
    h = murmur(h ^ (worker * 0xC2B2AE3D27D4EB4FL));
    return murmur(h ^ (stream * 0x165667B19E3779F9L));
  }

  private static long murmur(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
