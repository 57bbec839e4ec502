package dev.upcycle.ckpt.tf;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.CheckpointWriter;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.OutputWriteException;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.VersionDef;

/**
 * Writes a TensorFlow tensor bundle that TF's {@code RestoreV2} reads, in plain Java, one tensor at
 * a time.
 *
 * <p><b>It writes into the folder it is given.</b> For the prefix {@code stage/model.ckpt-100}
 * the folder {@code stage} must exist; {@link #commit} leaves there {@code model.ckpt-100.index},
 * {@code model.ckpt-100.data-0000i-of-0000N} and a {@code checkpoint} state file naming {@code
 * model.ckpt-100}. Publishing is the caller's: it stages the folder with {@link AtomicFolder},
 * whose commit fsyncs every file and renames the folder into place, and whose close removes
 * whatever a failed or abandoned writer left.
 *
 * <pre>{@code
 * try (AtomicFolder out = AtomicFolder.stage(folder, false);
 *     TfBundleWriter w = TfBundleWriter.create(out.path().resolve("model.ckpt-100"))) {
 *   w.write(tensor);
 *   w.commit();
 *   out.commit();
 * }
 * }</pre>
 *
 * <p>Tensors may arrive in any order; only their small index entries stay in memory. Data goes to
 * shard files of at most {@code maxShardBytes} each (a larger tensor gets a shard of its own),
 * written as {@code .data-0000i.partial} and renamed to {@code -of-N} names at commit. Each entry
 * records the masked CRC32C of its bytes. Any I/O failure (a full disk, say) is reported with the
 * file and tensor and leaves the writer unusable; its files stay for the stage to remove.
 *
 * <p><b>Throughput.</b> Tensor bytes go from the caller's buffer to the file channel in slices of
 * {@value #COPY_CHUNK} bytes (the JDK's one copy into a direct buffer, no stream buffering).
 * {@link #writeRepeated} CRCs its piece once and combines that CRC for the copies. Every
 * {@value #SYNC_EVERY} bytes the shard is fsynced in the background ({@link BackgroundSync}), so
 * the disk writes while later tensors are produced; the folder's commit still fsyncs every file.
 */
public final class TfBundleWriter implements CheckpointWriter {

  /** The state file written beside the bundle (TF's {@code checkpoint}). */
  public static final String STATE_FILE_NAME = CheckpointStateFile.FILE_NAME;

  /** Default shard size limit: 1 GiB. */
  public static final long DEFAULT_MAX_SHARD_BYTES = 1L << 30;

  /** TF's kTensorBundleVersion, written as the header's producer version. */
  private static final int TENSOR_BUNDLE_VERSION = 1;
  private static final int COPY_CHUNK = 4 << 20;
  private static final long SYNC_EVERY = 128L << 20;

  /** Opens a new file for writing; tests pass one that runs out of space. */
  @FunctionalInterface
  interface FileSink {
    WritableByteChannel open(Path file) throws IOException;
  }

  private static final FileSink DEFAULT_SINK =
      file -> FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

  private enum State { OPEN, COMMITTED, FAILED, CLOSED }

  private final Path prefix;
  private final Path folder;
  private final String baseName;
  private final long maxShardBytes;
  private final FileSink sink;
  /** Index entries by UTF-8 key, in the bytewise order the table needs. */
  private final TreeMap<byte[], BundleEntryProto> entries = new TreeMap<>(Arrays::compareUnsigned);
  private final BackgroundSync syncBehind;
  private State state = State.OPEN;
  private int numShards;
  private WritableByteChannel shard;
  private long shardBytes;

  /**
   * Starts writing the bundle {@code prefix} into its folder, which must exist (a stage of {@link
   * AtomicFolder}).
   *
   * @param prefix e.g. {@code stage/model.ckpt-100}
   * @param maxShardBytes the most bytes of tensor data per data file (> 0)
   * @throws FileAlreadyExistsException when the folder already holds this bundle's index or a state file
   */
  public static TfBundleWriter create(Path prefix, long maxShardBytes) throws IOException {
    return new TfBundleWriter(prefix, maxShardBytes, DEFAULT_SINK);
  }

  /** {@link #create(Path, long)} with {@link #DEFAULT_MAX_SHARD_BYTES}. */
  public static TfBundleWriter create(Path prefix) throws IOException {
    return create(prefix, DEFAULT_MAX_SHARD_BYTES);
  }

  TfBundleWriter(Path prefix, long maxShardBytes, FileSink sink) throws IOException {
    this(prefix, maxShardBytes, sink, SYNC_EVERY);
  }

  /** Tests pass a small {@code syncEvery} to exercise the background fsyncs. */
  TfBundleWriter(Path prefix, long maxShardBytes, FileSink sink, long syncEvery) throws IOException {
    checkNotNull(prefix, "prefix");
    checkNotNull(sink, "sink");
    checkArgument(maxShardBytes > 0, "maxShardBytes %s must be > 0", maxShardBytes);
    this.prefix = prefix.toAbsolutePath().normalize();
    this.folder = this.prefix.getParent();
    checkArgument(folder != null, "prefix %s must lie in a folder", prefix);
    this.baseName = this.prefix.getFileName().toString();
    checkArgument(!baseName.isEmpty() && !baseName.equals(CheckpointStateFile.FILE_NAME),
        "prefix %s: bad file name '%s'", prefix, baseName);
    checkArgument(Files.isDirectory(folder),
        "folder %s of the TF bundle %s does not exist (stage it with AtomicFolder)", folder, baseName);
    for (Path p : List.of(BundleFiles.index(this.prefix), folder.resolve(CheckpointStateFile.FILE_NAME))) {
      if (Files.exists(p)) {
        throw new FileAlreadyExistsException(p.toString(), null, "the folder given for a new TF bundle already holds it");
      }
    }
    this.maxShardBytes = maxShardBytes;
    this.sink = sink;
    this.syncBehind = new BackgroundSync(syncEvery);
  }

  /** The bundle's prefix. */
  public Path prefix() {
    return prefix;
  }

  /** The folder the bundle is written into: the prefix's parent. */
  public Path folder() {
    return folder;
  }

  /**
   * Appends one tensor's bytes to the current shard and records its index entry.
   *
   * @throws IllegalArgumentException for a duplicate or empty name, or a {@code DT_STRING} tensor
   * @throws IOException when the data cannot be written; this writer is then unusable
   */
  @Override
  public void write(RawTensor tensor) throws IOException {
    checkNotNull(tensor, "tensor");
    append(tensor.info(), tensor, 1);
  }

  /** Streams {@code copies} copies of {@code piece}: memory stays one piece whatever E is. */
  @Override
  public void writeRepeated(TensorInfo target, RawTensor piece, int copies) throws IOException {
    checkNotNull(target, "target");
    checkNotNull(piece, "piece");
    checkArgument(copies >= 1, "copies must be >= 1, got %s", copies);
    checkArgument(piece.info().dtype() == target.dtype()
        && piece.info().byteSize() * copies == target.byteSize(),
        "tensor %s is not %s copies of %s", target, copies, piece.info());
    append(target, piece, copies);
  }

  private void append(TensorInfo info, RawTensor piece, int copies) throws IOException {
    checkState(state == State.OPEN, "writer for %s is %s", prefix, state);
    String name = info.name();
    checkArgument(!name.isEmpty() && name.charAt(0) != '\0',
        "tensor name '%s' cannot be stored in a bundle (empty or starting with NUL)", name);
    checkArgument(info.dtype() != DType.STRING, "tensor '%s': DT_STRING tensors are not supported by %s",
        name, getClass().getSimpleName());
    byte[] key = name.getBytes(StandardCharsets.UTF_8);
    checkArgument(!entries.containsKey(key), "tensor '%s' written twice to %s", name, prefix);
    long size = (long) piece.data().remaining() * copies;
    Path file = null;
    try {
      if (shard != null && shardBytes > 0 && shardBytes + size > maxShardBytes) {
        closeShard();
      }
      if (shard == null) {
        openShard();
      }
      file = partialShard(numShards - 1);
      long pieceBytes = piece.data().remaining();
      int crc = Crc32c.repeat(Crc32c.of(piece.data()), pieceBytes, copies);
      for (int c = 0; c < copies; c++) {
        ByteBuffer data = piece.data();
        for (int from = 0; from < data.limit(); from += COPY_CHUNK) {
          ByteBuffer slice = data.slice(from, Math.min(COPY_CHUNK, data.limit() - from));
          while (slice.hasRemaining()) {
            shard.write(slice);
          }
        }
      }
      syncBehind.wrote(file, size);
      entries.put(key, BundleEntryProto.newBuilder()
          .setDtypeValue(info.dtype().tfEnum())
          .setShape(shapeProto(info.shape()))
          .setShardId(numShards - 1)
          .setOffset(shardBytes)
          .setSize(size)
          .setCrc32C(Crc32c.mask(crc))
          .build());
      shardBytes += size;
    } catch (IOException e) {
      throw fail("tensor '" + name + "'", file == null ? partialShard(numShards) : file, e);
    }
  }

  /** Finishes the data files and writes the index and the state file (the folder's commit publishes them). */
  @Override
  public void commit() throws IOException {
    checkState(state == State.OPEN, "writer for %s is %s", prefix, state);
    Path file = folder;
    try {
      if (shard == null && numShards == 0) {
        openShard(); // TF writes one (empty) data file even for a bundle without tensors
      }
      if (shard != null) {
        file = partialShard(numShards - 1);
        closeShard();
      }
      file = folder;
      syncBehind.await();
      syncBehind.close();
      for (int i = 0; i < numShards; i++) {
        file = partialShard(i);
        Files.move(file, BundleFiles.data(prefix, i, numShards));
      }
      file = BundleFiles.index(prefix);
      writeIndex(file);
      file = folder.resolve(CheckpointStateFile.FILE_NAME);
      try (OutputStream out = Channels.newOutputStream(sink.open(file))) {
        out.write(CheckpointStateFile.format(baseName, List.of(baseName)).getBytes(StandardCharsets.UTF_8));
      }
      state = State.COMMITTED;
    } catch (IOException e) {
      throw fail("the bundle", file, e);
    }
  }

  /** Lets go of the open files unless {@link #commit} succeeded; the files stay for the stage to remove. Idempotent. */
  @Override
  public void close() throws IOException {
    if (state == State.OPEN || state == State.FAILED) {
      release();
    }
    if (state != State.COMMITTED) {
      state = State.CLOSED;
    }
  }

  private void openShard() throws IOException {
    Path file = partialShard(numShards);
    shard = sink.open(file);
    numShards++;
    shardBytes = 0;
  }

  private void closeShard() throws IOException {
    WritableByteChannel s = shard;
    shard = null;
    s.close();
  }

  private Path partialShard(int i) {
    return folder.resolve(String.format("%s.data-%05d.partial", baseName, i));
  }

  private void writeIndex(Path file) throws IOException {
    BundleHeaderProto header = BundleHeaderProto.newBuilder()
        .setNumShards(numShards)
        .setEndianness(BundleHeaderProto.Endianness.LITTLE)
        .setVersion(VersionDef.newBuilder().setProducer(TENSOR_BUNDLE_VERSION))
        .build();
    try (OutputStream out = new BufferedOutputStream(Channels.newOutputStream(sink.open(file)), 1 << 16)) {
      TableWriter table = new TableWriter(out, TableWriter.DEFAULT_BLOCK_SIZE, TableWriter.DEFAULT_RESTART_INTERVAL);
      table.add(new byte[0], header.toByteArray());
      for (Map.Entry<byte[], BundleEntryProto> e : entries.entrySet()) {
        table.add(e.getKey(), e.getValue().toByteArray());
      }
      table.finish();
    }
  }

  private OutputWriteException fail(String what, Path file, IOException cause) {
    state = State.FAILED;
    release();
    return new OutputWriteException("TF bundle " + prefix, what, file, cause);
  }

  /** Stops the background fsync and closes the open shard, so the stage can delete the files. */
  private void release() {
    syncBehind.close();
    if (shard != null) {
      try {
        closeShard();
      } catch (IOException ignored) {
        // the file is being thrown away with its stage
      }
    }
  }

  private static TensorShapeProto shapeProto(long[] shape) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : shape) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }

  @Override
  public String toString() {
    return "TfBundleWriter[" + prefix + ", " + entries.size() + " tensors, " + state + "]";
  }
}
