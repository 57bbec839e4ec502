package dev.upcycle.ckpt.tf;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.FileErrors;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Reads a TensorFlow tensor bundle (the V2 checkpoint format: {@code prefix.index} plus
 * {@code prefix.data-NNNNN-of-NNNNN}) in plain Java, one tensor at a time.
 *
 * <p>{@link #open} accepts a prefix ({@code dir/model.ckpt-1}), the {@code .index} file itself, a
 * folder holding a {@code checkpoint} state file (its {@code model_checkpoint_path} is used), or a
 * SavedModel folder ({@code variables/variables}). Opening parses the index only (every block's
 * CRC is checked), so a bundle whose data shards are missing or not yet copied is still listed;
 * {@link #missingShards()} names the absent ones. A data shard is opened at the first {@link
 * #read} of a tensor stored in it, which reads the tensor's bytes with positional reads and checks
 * their size and CRC32C, and fails naming the shard when it is absent.
 *
 * <p>Names are kept exactly as stored (TF1 {@code scope/var}, TF2
 * {@code .../.ATTRIBUTES/VARIABLE_VALUE}). Partitioned (sliced) variables and {@code DT_STRING}
 * tensors are listed but cannot be read; internal slice keys are not listed.
 */
public final class TfBundleReader implements CheckpointReader {

  private static final int READ_CHUNK = 4 << 20;

  /** The value of {@link #format()}. */
  public static final String FORMAT = "tf-bundle";

  private static final String SAVED_MODEL_VARIABLES = "variables/variables";

  /** One index entry: what {@link #tensors()} shows plus where the bytes are. */
  private record Entry(TensorInfo info, int shardId, long offset, long size, int maskedCrc, int numSlices) {}

  private final Path source;
  private final Path prefix;
  private final int numShards;
  private final List<TensorInfo> tensors;
  private final Map<String, Entry> entries;
  /**
   * Open data shards by number, opened at first use. A map, not an array of {@code numShards}: the
   * header's count is not trusted with an allocation (a corrupt one said 2^31 - 1; TfBundleFuzzTest,
   * seed 7, entry case 1190).
   */
  private final Map<Integer, FileChannel> shards = new TreeMap<>();
  private boolean closed;

  private TfBundleReader(Path source, Path prefix, int numShards, List<Entry> sorted) {
    this.source = source;
    this.prefix = prefix;
    this.numShards = numShards;
    this.tensors = sorted.stream().map(Entry::info).collect(Collectors.toUnmodifiableList());
    this.entries = new HashMap<>();
    for (Entry e : sorted) {
      entries.put(e.info().name(), e);
    }
  }

  /**
   * Opens a bundle given its prefix, its {@code .index} file, a folder with a {@code checkpoint}
   * state file, or a SavedModel folder.
   *
   * @throws CheckpointFormatException naming the file (and tensor) when the bundle is missing,
   *     truncated, corrupt or uses a dtype this project does not handle
   */
  public static TfBundleReader open(Path path) throws IOException {
    checkNotNull(path, "path");
    Path prefix = resolvePrefix(path).orElseThrow(() -> new CheckpointFormatException(path, null,
        "not a TF tensor bundle: expected " + path + ".index, a folder with a 'checkpoint' state file,"
            + " or a SavedModel folder with " + SAVED_MODEL_VARIABLES + ".index"));
    Path indexFile = BundleFiles.index(prefix);
    Path stateFile = path.toAbsolutePath().normalize().resolve(CheckpointStateFile.FILE_NAME);
    if (!Files.exists(indexFile) && Files.isDirectory(path) && !prefix.endsWith(SAVED_MODEL_VARIABLES)) {
      throw new CheckpointFormatException(stateFile, null, "names the checkpoint prefix '" + prefix.getFileName()
          + "' (model_checkpoint_path), but its index " + indexFile + " is missing: that checkpoint was deleted or"
          + " not copied; point at a prefix that exists, or fix the state file");
    }
    List<TableReader.Entry> raw = TableReader.readAll(indexFile);
    if (raw.isEmpty() || raw.get(0).key().length != 0) {
      throw new CheckpointFormatException(indexFile, null, "no bundle header (the entry under the empty key)");
    }
    BundleHeaderProto header;
    try {
      header = BundleHeaderProto.parseFrom(raw.get(0).value());
    } catch (InvalidProtocolBufferException e) {
      throw new CheckpointFormatException(indexFile, null, "malformed BundleHeaderProto: " + e.getMessage(), e);
    }
    if (header.getEndiannessValue() != BundleHeaderProto.Endianness.LITTLE_VALUE) {
      throw new CheckpointFormatException(indexFile, null, "bundle is big-endian (endianness "
          + header.getEndiannessValue() + "); only little-endian bundles are supported");
    }
    int numShards = header.getNumShards();
    if (numShards < 1) {
      throw new CheckpointFormatException(indexFile, null, "header says num_shards = " + numShards + "; expected >= 1");
    }
    List<Entry> parsed = new ArrayList<>(raw.size());
    for (TableReader.Entry r : raw.subList(1, raw.size())) {
      if (r.key()[0] == 0) {
        continue; // an encoded (name, slice) key of a partitioned variable: not a tensor name
      }
      parsed.add(parseEntry(indexFile, new String(r.key(), StandardCharsets.UTF_8), r.value(), numShards));
    }
    parsed.sort((a, b) -> a.info().name().compareTo(b.info().name()));
    return new TfBundleReader(path, prefix, numShards, parsed);
  }

  /** True when {@link #open} would find a bundle index at or under {@code path}. Never throws. */
  public static boolean looksLike(Path path) {
    try {
      Optional<Path> prefix = resolvePrefix(path);
      return prefix.isPresent() && Files.isRegularFile(BundleFiles.index(prefix.get()));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The bundle prefix that {@code path} designates (see {@link #open}), or empty when it designates
   * none. The prefix's {@code .index} may still be missing when a state file names it.
   */
  public static Optional<Path> resolvePrefix(Path path) throws IOException {
    checkNotNull(path, "path");
    Path p = path.toAbsolutePath().normalize();
    String name = p.getFileName() == null ? "" : p.getFileName().toString();
    if (name.endsWith(".index") && Files.isRegularFile(p)) {
      return Optional.of(p.resolveSibling(name.substring(0, name.length() - ".index".length())));
    }
    if (!name.isEmpty() && Files.isRegularFile(BundleFiles.index(p))) {
      return Optional.of(p);
    }
    if (Files.isDirectory(p)) {
      Path savedModel = p.resolve(SAVED_MODEL_VARIABLES);
      if (Files.isRegularFile(BundleFiles.index(savedModel))) {
        return Optional.of(savedModel);
      }
      return CheckpointStateFile.latestPrefix(p);
    }
    return Optional.empty();
  }

  private static Entry parseEntry(Path indexFile, String name, byte[] value, int numShards)
      throws CheckpointFormatException {
    BundleEntryProto proto;
    try {
      proto = BundleEntryProto.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new CheckpointFormatException(indexFile, name, "malformed BundleEntryProto: " + e.getMessage(), e);
    }
    DType dtype = DType.fromTfEnum(proto.getDtypeValue());
    if (dtype == null) {
      DataType known = DataType.forNumber(proto.getDtypeValue());
      throw new CheckpointFormatException(indexFile, name, "dtype " + proto.getDtypeValue()
          + (known == null ? " (not a TensorFlow DataType)" : " (" + known + ")") + " is not supported; supported: "
          + Arrays.stream(DType.values()).filter(d -> d != DType.UNREADABLE).map(d -> d.numpyName()).collect(Collectors.joining(", ")));
    }
    TensorShapeProto shapeProto = proto.getShape();
    if (shapeProto.getUnknownRank()) {
      throw new CheckpointFormatException(indexFile, name, "shape has unknown rank");
    }
    long[] shape = new long[shapeProto.getDimCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeProto.getDim(i).getSize();
      if (shape[i] < 0) {
        throw new CheckpointFormatException(indexFile, name, "dimension " + i + " is " + shape[i] + "; expected >= 0");
      }
    }
    if (proto.getShardId() < 0 || proto.getShardId() >= numShards) {
      throw new CheckpointFormatException(indexFile, name, "shard_id " + proto.getShardId()
          + " is outside [0, " + numShards + ")");
    }
    if (proto.getOffset() < 0 || proto.getSize() < 0) {
      throw new CheckpointFormatException(indexFile, name, "negative offset " + proto.getOffset()
          + " or size " + proto.getSize());
    }
    TensorInfo info;
    try {
      info = new TensorInfo(name, dtype, shape);
    } catch (IllegalArgumentException e) {
      throw new CheckpointFormatException(indexFile, name, "bad shape: " + e.getMessage(), e);
    }
    return new Entry(info, proto.getShardId(), proto.getOffset(), proto.getSize(), proto.getCrc32C(),
        proto.getSlicesCount());
  }

  @Override
  public Path source() {
    return source;
  }

  @Override
  public String format() {
    return FORMAT;
  }

  /** The bundle prefix the files were found under ({@code .../model.ckpt-1}, {@code .../variables/variables}). */
  public Path prefix() {
    return prefix;
  }

  /** How many data files the bundle has. */
  public int numShards() {
    return numShards;
  }

  @Override
  public List<TensorInfo> tensors() {
    return tensors;
  }

  /** A data shard the index refers to that is not on disk: its number, file and how many tensors it holds. */
  public record MissingShard(int shard, Path file, int tensors) {}

  /**
   * The data shards the index refers to that are not on disk now, in shard order: those that hold a
   * tensor (a shard of none is never opened, so whether it is there does not matter).
   */
  public synchronized List<MissingShard> missingShards() {
    Map<Integer, Integer> tensorsOfShard = new TreeMap<>();
    entries.values().forEach(e -> tensorsOfShard.merge(e.shardId(), 1, Integer::sum));
    List<MissingShard> out = new ArrayList<>();
    for (Map.Entry<Integer, Integer> s : tensorsOfShard.entrySet()) {
      Path data = BundleFiles.data(prefix, s.getKey(), numShards);
      if (!shards.containsKey(s.getKey()) && !Files.isRegularFile(data)) {
        out.add(new MissingShard(s.getKey(), data, s.getValue()));
      }
    }
    return List.copyOf(out);
  }

  /**
   * Reads one tensor.
   *
   * @throws IllegalArgumentException when the bundle has no tensor of that name
   * @throws CheckpointFormatException when the tensor is partitioned or a string, or its bytes are
   *     truncated, the wrong size or fail their CRC32C
   */
  @Override
  public RawTensor read(String name) throws IOException {
    checkState(!closed, "reader of %s is closed", prefix);
    Entry e = entries.get(name);
    checkArgument(e != null, "no tensor '%s' in %s", name, prefix);
    Path dataFile = BundleFiles.data(prefix, e.shardId(), numShards);
    TensorInfo info = e.info();
    if (e.numSlices() > 0) {
      throw new CheckpointFormatException(BundleFiles.index(prefix), name, "is a partitioned variable stored as "
          + e.numSlices() + " slice(s); reading partitioned variables is not supported");
    }
    if (info.dtype() == DType.STRING) {
      throw new CheckpointFormatException(dataFile, name, "DT_STRING tensors are not supported (only fixed-size dtypes)");
    }
    if (e.size() != info.byteSize()) {
      throw new CheckpointFormatException(dataFile, name, "index says " + e.size() + " bytes but " + info
          + " needs " + info.numElements() + " x " + info.dtype().byteSize() + " = " + info.byteSize() + " bytes");
    }
    if (e.size() > Integer.MAX_VALUE - 16) {
      throw new CheckpointFormatException(dataFile, name, e.size() + " bytes is too large for one buffer (2 GiB)");
    }
    FileChannel ch = shard(e.shardId(), dataFile, name);
    long fileSize = ch.size();
    if (e.offset() + e.size() > fileSize) {
      throw new CheckpointFormatException(dataFile, name, "data file is truncated: it has " + fileSize
          + " bytes but the tensor occupies bytes [" + e.offset() + ", " + (e.offset() + e.size()) + ")");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) e.size()).order(ByteOrder.LITTLE_ENDIAN);
    long pos = e.offset();
    while (buf.hasRemaining()) {
      // slices keep the JDK's temporary direct buffer (one per thread, kept) at READ_CHUNK bytes
      ByteBuffer slice = buf.slice(buf.position(), Math.min(READ_CHUNK, buf.remaining()));
      int n = ch.read(slice, pos);
      if (n < 0) {
        throw new CheckpointFormatException(dataFile, name, "data file ended at byte " + pos
            + " while reading bytes [" + e.offset() + ", " + (e.offset() + e.size()) + ")");
      }
      pos += n;
      buf.position(buf.position() + n);
    }
    buf.flip();
    int actual = Crc32c.of(buf);
    int stored = Crc32c.unmask(e.maskedCrc());
    if (actual != stored) {
      throw new CheckpointFormatException(dataFile, name, String.format(
          "crc32c mismatch: index says 0x%08x, bytes [%d, %d) give 0x%08x: the data file is corrupt",
          stored, e.offset(), e.offset() + e.size(), actual));
    }
    return new RawTensor(info, buf);
  }

  private synchronized FileChannel shard(int id, Path dataFile, String tensor) throws IOException {
    FileChannel ch = shards.get(id);
    if (ch == null) {
      if (!Files.isRegularFile(dataFile)) {
        throw new CheckpointFormatException(dataFile, tensor, "cannot be read: data shard " + id + " of " + numShards
            + " is missing (the index " + BundleFiles.index(prefix).getFileName() + " refers to it)");
      }
      try {
        ch = FileChannel.open(dataFile, StandardOpenOption.READ);
      } catch (IOException ex) {
        throw new CheckpointFormatException(dataFile, tensor, "data shard " + id + " of " + numShards
            + " cannot be read (" + FileErrors.reason(ex) + ")", ex);
      }
      shards.put(id, ch);
    }
    return ch;
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    IOException first = null;
    for (FileChannel ch : shards.values()) {
      try {
        ch.close();
      } catch (IOException ex) {
        first = first == null ? ex : first;
      }
    }
    shards.clear();
    if (first != null) {
      throw first;
    }
  }

  @Override
  public String toString() {
    return "TfBundleReader[" + prefix + ", " + tensors.size() + " tensors, " + numShards + " shard(s)]";
  }
}
