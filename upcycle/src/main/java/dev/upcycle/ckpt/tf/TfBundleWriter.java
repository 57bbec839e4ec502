package dev.upcycle.ckpt.tf;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import dev.upcycle.ckpt.CheckpointWriter;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.Folders;
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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.VersionDef;

/**
 * Writes a TensorFlow tensor bundle that TF's {@code RestoreV2} reads, in plain Java, one tensor at
 * a time.
 *
 * <p><b>The unit written is the prefix's parent folder.</b> For the prefix
 * {@code out/ckpt/model.ckpt-100} every file goes to a hidden sibling folder
 * {@code out/.ckpt.tmp-<random>}; {@link #commit} renames it to {@code out/ckpt} in one atomic
 * step, so {@code out/ckpt} either does not exist or holds the finished bundle:
 * {@code model.ckpt-100.index}, {@code model.ckpt-100.data-0000i-of-0000N} and a {@code checkpoint}
 * state file naming {@code model.ckpt-100}. With {@code overwrite}, an existing folder (and
 * everything in it) is replaced: it is first renamed aside, then deleted after the new folder is in
 * place. Without it, an existing folder is an error before anything is written.
 *
 * <p>Tensors may arrive in any order; only their small index entries stay in memory. Data goes to
 * shard files of at most {@code maxShardBytes} each (a larger tensor gets a shard of its own),
 * written under temporary names and renamed to {@code -of-N} names at commit. Each entry records
 * the masked CRC32C of its bytes. Any I/O failure (a full disk, say) removes the temporary folder
 * and is reported with the file and tensor; {@link #close} without {@link #commit} removes it too.
 *
 * <p><b>Throughput.</b> Tensor bytes go from the caller's buffer to the file channel in slices of
 * {@value #COPY_CHUNK} bytes (the JDK's one copy into a direct buffer, no stream buffering).
 * {@link #writeRepeated} CRCs its piece once and combines that CRC for the copies. Every
 * {@value #SYNC_EVERY} bytes the shard is fsynced in the background ({@link BackgroundSync}), so
 * the disk writes while later tensors are produced; commit still fsyncs every file.
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
  private final boolean overwrite;
  private final FileSink sink;
  private final Path tmpFolder;
  private final Path tmpPrefix;
  /** Index entries by UTF-8 key, in the bytewise order the table needs. */
  private final TreeMap<byte[], BundleEntryProto> entries = new TreeMap<>(Arrays::compareUnsigned);
  private final BackgroundSync syncBehind;
  private State state = State.OPEN;
  private int numShards;
  private WritableByteChannel shard;
  private long shardBytes;

  /**
   * Starts writing the bundle {@code prefix} (its parent folder is created atomically at commit).
   *
   * @param prefix e.g. {@code out/ckpt/model.ckpt-100}
   * @param maxShardBytes the most bytes of tensor data per data file (> 0)
   * @param overwrite replace the prefix's folder if it exists; otherwise that is an error
   * @throws FileAlreadyExistsException when the folder exists and {@code overwrite} is false
   */
  public static TfBundleWriter create(Path prefix, long maxShardBytes, boolean overwrite) throws IOException {
    return new TfBundleWriter(prefix, maxShardBytes, overwrite, DEFAULT_SINK);
  }

  /** {@link #create} with {@link #DEFAULT_MAX_SHARD_BYTES}. */
  public static TfBundleWriter create(Path prefix, boolean overwrite) throws IOException {
    return create(prefix, DEFAULT_MAX_SHARD_BYTES, overwrite);
  }

  TfBundleWriter(Path prefix, long maxShardBytes, boolean overwrite, FileSink sink) throws IOException {
    this(prefix, maxShardBytes, overwrite, sink, SYNC_EVERY);
  }

  /** Tests pass a small {@code syncEvery} to exercise the background fsyncs. */
  TfBundleWriter(Path prefix, long maxShardBytes, boolean overwrite, FileSink sink, long syncEvery)
      throws IOException {
    checkNotNull(prefix, "prefix");
    checkNotNull(sink, "sink");
    checkArgument(maxShardBytes > 0, "maxShardBytes %s must be > 0", maxShardBytes);
    this.prefix = prefix.toAbsolutePath().normalize();
    this.folder = this.prefix.getParent();
    checkArgument(folder != null && folder.getParent() != null && folder.getFileName() != null,
        "prefix %s must lie in a folder below the root (that folder is what gets written)", prefix);
    this.baseName = this.prefix.getFileName().toString();
    checkArgument(!baseName.isEmpty() && !baseName.equals(CheckpointStateFile.FILE_NAME),
        "prefix %s: bad file name '%s'", prefix, baseName);
    this.maxShardBytes = maxShardBytes;
    this.overwrite = overwrite;
    this.sink = sink;
    this.syncBehind = new BackgroundSync(syncEvery);
    if (Files.exists(folder)) {
      if (!overwrite) {
        throw new FileAlreadyExistsException(folder.toString(), null,
            "output folder already exists; pass overwrite = true to replace it and everything in it");
      }
      if (!Files.isDirectory(folder)) {
        throw new FileAlreadyExistsException(folder.toString(), null, "exists and is not a folder");
      }
    }
    Files.createDirectories(folder.getParent());
    this.tmpFolder = folder.resolveSibling("." + folder.getFileName() + ".tmp-" + Folders.randomSuffix());
    Files.createDirectory(tmpFolder);
    this.tmpPrefix = tmpFolder.resolve(baseName);
  }

  /** The prefix the bundle will have after {@link #commit}. */
  public Path prefix() {
    return prefix;
  }

  /** The folder that appears atomically at {@link #commit}: the prefix's parent. */
  public Path folder() {
    return folder;
  }

  /**
   * Appends one tensor's bytes to the current shard and records its index entry.
   *
   * @throws IllegalArgumentException for a duplicate or empty name, or a {@code DT_STRING} tensor
   * @throws IOException when the data cannot be written; the temporary folder is then removed and
   *     this writer is unusable
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

  /** Writes the index and state file, then renames the folder into place. */
  @Override
  public void commit() throws IOException {
    checkState(state == State.OPEN, "writer for %s is %s", prefix, state);
    Path file = tmpFolder;
    try {
      if (shard == null && numShards == 0) {
        openShard(); // TF writes one (empty) data file even for a bundle without tensors
      }
      if (shard != null) {
        file = partialShard(numShards - 1);
        closeShard();
      }
      file = tmpFolder;
      syncBehind.await();
      syncBehind.close();
      for (int i = 0; i < numShards; i++) {
        file = partialShard(i);
        Files.move(file, BundleFiles.data(tmpPrefix, i, numShards));
      }
      file = BundleFiles.index(tmpPrefix);
      writeIndex(file);
      file = tmpFolder.resolve(CheckpointStateFile.FILE_NAME);
      try (OutputStream out = Channels.newOutputStream(sink.open(file))) {
        out.write(CheckpointStateFile.format(baseName, List.of(baseName)).getBytes(StandardCharsets.UTF_8));
      }
      file = tmpFolder;
      syncAll();
      publish();
      state = State.COMMITTED;
    } catch (IOException e) {
      throw fail("the bundle", file, e);
    }
  }

  /** Removes the temporary folder unless {@link #commit} succeeded. Idempotent. */
  @Override
  public void close() throws IOException {
    if (state == State.OPEN || state == State.FAILED) {
      abort();
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
    return tmpFolder.resolve(String.format("%s.data-%05d.partial", baseName, i));
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

  private void syncAll() throws IOException {
    try (Stream<Path> files = Files.list(tmpFolder)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
      }
    }
  }

  private void publish() throws IOException {
    if (!Files.exists(folder)) {
      Files.move(tmpFolder, folder, StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    if (!overwrite) {
      throw new FileAlreadyExistsException(folder.toString(), null, "output folder appeared while writing");
    }
    Path old = folder.resolveSibling("." + folder.getFileName() + ".old-" + Folders.randomSuffix());
    Files.move(folder, old, StandardCopyOption.ATOMIC_MOVE);
    try {
      Files.move(tmpFolder, folder, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.move(old, folder, StandardCopyOption.ATOMIC_MOVE);
      throw e;
    }
    Folders.deleteTree(old);
  }

  private IOException fail(String what, Path file, IOException cause) {
    state = State.FAILED;
    String cleanup;
    try {
      abort();
      cleanup = "the partial output was removed";
    } catch (IOException e) {
      cause.addSuppressed(e);
      cleanup = "removing the partial output " + tmpFolder + " failed too: " + e;
    }
    return new IOException("writing TF bundle " + prefix + ": " + what + " could not be written to " + file + ": "
        + cause.getMessage() + " (" + cause.getClass().getSimpleName() + "); " + cleanup, cause);
  }

  private void abort() throws IOException {
    syncBehind.close(); // its thread lets go of the files before they are deleted
    if (shard != null) {
      try {
        closeShard();
      } catch (IOException ignored) {
        // the stream is being thrown away with its folder
      }
    }
    Folders.deleteTree(tmpFolder);
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
