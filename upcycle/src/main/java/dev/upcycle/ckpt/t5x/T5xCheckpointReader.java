package dev.upcycle.ckpt.t5x;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads a T5X checkpoint folder {@code checkpoint_<step>/} (msgpack file {@code checkpoint} plus
 * tensorstore zarr array folders), one tensor at a time.
 *
 * <p>Names are the msgpack tree paths joined by {@code /} with the top-level {@code optimizer}
 * (or Orbax-style {@code _optimizer}) level dropped, so parameters are {@code target/...} and
 * optimizer state {@code state/param_states/...} and {@code state/step}; the top-level {@code
 * version} is {@link #version()}, not a tensor. Leaves:
 * <ul>
 *   <li>flax ext type 1 (ndarray) and 3 (numpy scalar), and flax's chunked inline arrays;
 *   <li>plain msgpack integers (int64), floats (float32/float64) and booleans, as scalars;
 *   <li>tensorstore zarr specs (chunk files gzip / zlib / raw; {@code .zarray} fills gaps);
 *   <li>Orbax {@code PLACEHOLDER://...} strings: listed by {@link #placeholders()}, not in
 *       {@link #tensors()}; reading one is a {@link CheckpointFormatException};
 *   <li>nil and empty maps hold no data and are skipped; any other leaf (a string, a binary
 *       value, a list, a msgpack extension other than flax's) is refused when opening: the {@link
 *       CheckpointFormatException} names every such leaf, so no tensor is silently left out.
 * </ul>
 * Every file the reader opens (the msgpack file, {@code .zarray} and chunk files) must lie inside
 * the checkpoint folder once symbolic links are resolved ({@link CheckpointFolder}).
 * Optimizer state may be in T5X's Adafactor layout (all four slots per parameter, the unused ones
 * [1] zeros) or hold only the real slots: the unused ones are listed by {@link
 * #unusedAdafactorSlots()}, not in {@link #tensors()}.
 * Opening parses only the msgpack file (array payloads are located, not loaded) and the
 * {@code .zarray} files; {@link #read} loads one tensor.
 */
public final class T5xCheckpointReader implements CheckpointReader {

  /** The format name returned by {@link #format()}. */
  public static final String FORMAT = "t5x";
  /** Name of the msgpack index file inside a checkpoint folder. */
  public static final String MSGPACK_FILE = "checkpoint";
  /** Prefix of Orbax placeholder strings. */
  public static final String PLACEHOLDER_PREFIX = "PLACEHOLDER://";

  private sealed interface Leaf permits Inline, Value, Zarr {
    TensorInfo info();
  }

  /** Inline bytes as segments {@code [offset, length]} of the msgpack file (flax chunks are many). */
  private record Inline(TensorInfo info, List<long[]> segments) implements Leaf {}

  private record Value(TensorInfo info, byte[] bytes) implements Leaf {}

  private record Zarr(TensorInfo info, ZarrArray array) implements Leaf {}

  private final Path dir;
  private final Path msgpackFile;
  private final long version;
  private final Map<String, Leaf> leaves;
  private final Map<String, String> placeholders;
  private final Set<String> unusedSlots;
  private final List<TensorInfo> infos;

  /** The msgpack file as resolved through links, which {@link #readInline} reads. */
  private final Path msgpackReal;

  private T5xCheckpointReader(Path dir, Path msgpackFile, Path msgpackReal, long version, Map<String, Leaf> leaves,
      Map<String, String> placeholders, boolean t5xLayout) {
    this.dir = dir;
    this.msgpackFile = msgpackFile;
    this.msgpackReal = msgpackReal;
    this.version = version;
    this.leaves = leaves;
    this.placeholders = Collections.unmodifiableMap(placeholders);
    List<TensorInfo> all = new ArrayList<>();
    for (Leaf l : leaves.values()) {
      all.add(l.info());
    }
    this.unusedSlots = t5xLayout ? Collections.unmodifiableSet(AdafactorLayout.placeholders(all)) : Set.of();
    this.infos = all.stream().filter(t -> !unusedSlots.contains(t.name())).toList();
  }

  /**
   * Opens a checkpoint folder (or its {@code checkpoint} msgpack file directly). Throws {@link
   * CheckpointFormatException} naming file and tensor when the tree or a spec is bad.
   */
  public static T5xCheckpointReader open(Path checkpoint) throws IOException {
    checkNotNull(checkpoint, "checkpoint");
    Path dir = Files.isDirectory(checkpoint) ? checkpoint : checkpoint.toAbsolutePath().getParent();
    Path file = Files.isDirectory(checkpoint) ? checkpoint.resolve(MSGPACK_FILE) : checkpoint;
    if (!CheckpointFolder.present(file)) {
      throw new NoSuchFileException(file.toString(), null,
          "no T5X msgpack file '" + MSGPACK_FILE + "' in this folder");
    }
    CheckpointFolder folder = CheckpointFolder.of(dir);
    Path real = folder.resolve(file, null);
    Map<String, Object> root = MsgpackTree.parse(real, file);
    Builder b = new Builder(folder, file);
    long version = -1;
    for (Map.Entry<String, Object> e : root.entrySet()) {
      String key = e.getKey();
      if (key.equals("version") && e.getValue() instanceof Long v) {
        version = v;
      } else if ((key.equals("optimizer") || key.equals("_optimizer")) && e.getValue() instanceof Map) {
        b.walk("", e.getValue());
      } else {
        b.walk(key, e.getValue());
      }
    }
    b.refuseUnreadable();
    return new T5xCheckpointReader(dir, file, real, version, b.leaves, b.placeholders, true);
  }

  /**
   * Opens a plain flax msgpack tree ({@code flax.serialization.to_bytes} of a parameter dict, e.g.
   * Hugging Face's {@code flax_model.msgpack}): the leaves are decoded as in {@link #open}, named by
   * their full path joined with {@code /}; no T5X level ({@code version}, {@code optimizer}) or
   * Adafactor layout is interpreted. {@link #source()} is the file's folder. The file may be a
   * link (a Hugging Face cache's {@code snapshots/<rev>/flax_model.msgpack} links into {@code
   * blobs/}): it holds all its data inline, so only tensorstore leaves, which name files of their
   * own, are confined to its folder.
   */
  public static T5xCheckpointReader openFlaxTree(Path msgpackFile) throws IOException {
    checkNotNull(msgpackFile, "msgpackFile");
    if (!Files.isRegularFile(msgpackFile)) {
      throw new NoSuchFileException(msgpackFile.toString(), null, "no flax msgpack file here");
    }
    Path dir = msgpackFile.toAbsolutePath().getParent();
    Builder b = new Builder(CheckpointFolder.of(dir), msgpackFile);
    for (Map.Entry<String, Object> e : MsgpackTree.parse(msgpackFile, msgpackFile).entrySet()) {
      b.walk(e.getKey(), e.getValue());
    }
    b.refuseUnreadable();
    return new T5xCheckpointReader(dir, msgpackFile, msgpackFile, -1, b.leaves, b.placeholders, false);
  }

  /** The checkpoint folder. */
  @Override
  public Path source() {
    return dir;
  }

  @Override
  public String format() {
    return FORMAT;
  }

  /** The msgpack {@code version} field (3 for current T5X), or -1 when absent. */
  public long version() {
    return version;
  }

  @Override
  public List<TensorInfo> tensors() {
    return infos;
  }

  /**
   * Orbax placeholders by name ({@code state/step} → {@code PLACEHOLDER://_optimizer.state.step}):
   * their data lives in an Orbax store this reader does not decode, so they are not tensors here.
   */
  public Map<String, String> placeholders() {
    return placeholders;
  }

  /**
   * The unused Adafactor slots of T5X's layout ({@link AdafactorLayout#placeholders}: a [1] {@code
   * v} beside real {@code v_row}/{@code v_col}, a [1] {@code m} without momentum, ...), sorted. They
   * are left out of {@link #tensors()}, so the state listed is the canonical one; {@link #read}
   * still reads them.
   */
  public Set<String> unusedAdafactorSlots() {
    return unusedSlots;
  }

  @Override
  public RawTensor read(String name) throws IOException {
    checkNotNull(name, "name");
    Leaf leaf = leaves.get(name);
    if (leaf == null) {
      if (placeholders.containsKey(name)) {
        throw new CheckpointFormatException(msgpackFile, name, "is an Orbax placeholder ('"
            + placeholders.get(name) + "'); its data is in an Orbax store, which this T5X reader"
            + " does not decode");
      }
      throw new CheckpointFormatException(msgpackFile, name, "no such tensor in this checkpoint");
    }
    byte[] bytes;
    if (leaf instanceof Value v) {
      bytes = v.bytes().clone();
    } else if (leaf instanceof Inline in) {
      bytes = readInline(in);
    } else {
      bytes = ((Zarr) leaf).array().read();
    }
    return new RawTensor(leaf.info(), ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
  }

  private byte[] readInline(Inline in) throws IOException {
    long total = in.info().byteSize();
    if (total > Integer.MAX_VALUE - 16) {
      throw new CheckpointFormatException(msgpackFile, in.info().name(),
          "inline tensor of " + total + " bytes is larger than one Java array");
    }
    byte[] out = new byte[(int) total];
    ByteBuffer buf = ByteBuffer.wrap(out);
    try (FileChannel ch = FileChannel.open(msgpackReal, StandardOpenOption.READ)) {
      for (long[] seg : in.segments()) {
        buf.limit(Math.toIntExact(buf.position() + seg[1]));
        long pos = seg[0];
        while (buf.hasRemaining()) {
          int n = ch.read(buf, pos);
          if (n < 0) {
            throw new CheckpointFormatException(msgpackFile, in.info().name(),
                "file ended inside the inline array (changed since it was opened?)");
          }
          pos += n;
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    // Nothing is held open between reads.
  }

  /** Flattens the msgpack tree into leaves. */
  private static final class Builder {
    /** How many unreadable leaves the error lists by name. */
    private static final int LISTED = 10;

    private final CheckpointFolder folder;
    private final Path file;
    private final Map<String, Leaf> leaves = new TreeMap<>();
    private final Map<String, String> placeholders = new TreeMap<>();
    private final List<String> unreadable = new ArrayList<>();

    Builder(CheckpointFolder folder, Path file) {
      this.folder = folder;
      this.file = file;
    }

    /** Every leaf is a tensor, a placeholder or nothing (nil, an empty map): else the file is refused. */
    void refuseUnreadable() throws CheckpointFormatException {
      if (unreadable.isEmpty()) {
        return;
      }
      List<String> shown = unreadable.subList(0, Math.min(LISTED, unreadable.size()));
      throw new CheckpointFormatException(file, null, unreadable.size() + " leaf/leaves of the msgpack tree"
          + " are not tensors this reader can read (a checkpoint's leaves are flax arrays, numbers, tensorstore"
          + " specs or Orbax placeholders); refusing rather than leaving them out: " + String.join("; ", shown)
          + (unreadable.size() > LISTED ? "; and " + (unreadable.size() - LISTED) + " more" : ""));
    }

    @SuppressWarnings("unchecked")
    void walk(String name, Object v) throws IOException {
      if (v == null) {
        return;
      }
      if (v instanceof Map<?, ?> raw) {
        Map<String, Object> map = (Map<String, Object>) raw;
        if (map.isEmpty()) {
          return;
        }
        if (TensorstoreSpec.isSpec(map)) {
          ZarrArray a = TensorstoreSpec.resolve(folder, file, name, map);
          put(name, new Zarr(a.info(), a));
        } else if (Boolean.TRUE.equals(map.get("__msgpack_chunked_array__"))) {
          put(name, chunked(name, map));
        } else {
          for (Map.Entry<String, Object> e : map.entrySet()) {
            walk(name.isEmpty() ? e.getKey() : name + "/" + e.getKey(), e.getValue());
          }
        }
      } else if (v instanceof MsgpackTree.InlineArray a) {
        put(name, inline(name, a.dtypeName(), a.shape(), List.of(new long[] {a.offset(), a.length()})));
      } else if (v instanceof String s) {
        if (s.startsWith(PLACEHOLDER_PREFIX)) {
          placeholders.put(name, s);
        } else {
          unreadable.add(name + ": string leaf '" + MsgpackTree.abbreviate(s) + "'");
        }
      } else if (v instanceof Long l) {
        put(name, scalar(name, DType.INT64, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(l)));
      } else if (v instanceof BigInteger big) {
        // msgpack uint64 above Long.MAX_VALUE: kept as the same 64 bits in an int64.
        put(name, scalar(name, DType.INT64,
            ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(big.longValue())));
      } else if (v instanceof Double d) {
        put(name, scalar(name, DType.FLOAT64, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(d)));
      } else if (v instanceof Float f) {
        put(name, scalar(name, DType.FLOAT32, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(f)));
      } else if (v instanceof Boolean bool) {
        put(name, scalar(name, DType.BOOL, ByteBuffer.allocate(1).put((byte) (bool ? 1 : 0))));
      } else if (v instanceof MsgpackTree.Unsupported u) {
        unreadable.add(name + ": " + u.what());
      } else {
        unreadable.add(name + ": " + MsgpackTree.describe(v));
      }
    }

    private void put(String name, Leaf leaf) throws CheckpointFormatException {
      if (name.isEmpty()) {
        throw new CheckpointFormatException(file, null, "a tensor sits at the root of the tree");
      }
      if (leaves.putIfAbsent(name, leaf) != null || placeholders.containsKey(name)) {
        throw new CheckpointFormatException(file, name,
            "two leaves flatten to this name (is there both 'optimizer/X' and a top-level 'X'?)");
      }
    }

    private static Value scalar(String name, DType dtype, ByteBuffer b) {
      return new Value(new TensorInfo(name, dtype, new long[0]), b.array());
    }

    private Inline inline(String name, String dtypeName, long[] shape, List<long[]> segments)
        throws CheckpointFormatException {
      ZarrDTypes.Parsed parsed = ZarrDTypes.parse(dtypeName);
      if (parsed == null || parsed.bigEndian()) {
        throw new CheckpointFormatException(file, name, "unknown dtype '" + dtypeName
            + "' in an inline flax array");
      }
      TensorInfo info;
      try {
        info = new TensorInfo(name, parsed.dtype(), shape);
      } catch (IllegalArgumentException e) {
        throw new CheckpointFormatException(file, name, "bad shape: " + e.getMessage(), e);
      }
      long have = 0;
      for (long[] s : segments) {
        have += s[1];
      }
      if (have != info.byteSize()) {
        throw new CheckpointFormatException(file, name, "inline array holds " + have
            + " bytes, expected " + info.byteSize() + " for " + info);
      }
      return new Inline(info, segments);
    }

    /** Flax splits big inline arrays into {@code {__msgpack_chunked_array__, shape, chunks}}. */
    @SuppressWarnings("unchecked")
    private Inline chunked(String name, Map<String, Object> map) throws CheckpointFormatException {
      if (!(map.get("shape") instanceof Map<?, ?> shapeMap) || !(map.get("chunks") instanceof Map<?, ?> chunkMap)) {
        throw new CheckpointFormatException(file, name, "flax chunked array without shape/chunks maps");
      }
      long[] shape = new long[shapeMap.size()];
      for (int i = 0; i < shape.length; i++) {
        if (!(shapeMap.get(Integer.toString(i)) instanceof Long d)) {
          throw new CheckpointFormatException(file, name, "flax chunked array shape " + shapeMap + " is not {0: n, ...}");
        }
        shape[i] = d;
      }
      List<long[]> segments = new ArrayList<>();
      String dtype = null;
      for (int i = 0; i < chunkMap.size(); i++) {
        if (!(((Map<String, Object>) chunkMap).get(Integer.toString(i)) instanceof MsgpackTree.InlineArray a)) {
          throw new CheckpointFormatException(file, name, "flax chunk " + i + " is missing or not an ndarray");
        }
        if (dtype != null && !dtype.equals(a.dtypeName())) {
          throw new CheckpointFormatException(file, name, "flax chunks mix dtypes " + dtype + " and " + a.dtypeName());
        }
        dtype = a.dtypeName();
        segments.add(new long[] {a.offset(), a.length()});
      }
      if (dtype == null) {
        throw new CheckpointFormatException(file, name, "flax chunked array has no chunks");
      }
      return inline(name, dtype, shape, segments);
    }
  }
}
