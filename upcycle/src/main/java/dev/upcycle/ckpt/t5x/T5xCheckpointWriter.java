package dev.upcycle.ckpt.t5x;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;

/**
 * Writes a T5X checkpoint folder {@code checkpoint_<step>/} that T5X restores: the msgpack file
 * {@code checkpoint} ({@code {version: 3, optimizer: {target: {...}, state: {step, param_states}}}})
 * and, for every tensor of rank ≥ 1, a zarr v2 folder named after the tensor with {@code /} → {@code
 * .} (e.g. {@code target.encoder.layers_0.mlp.wi_0.kernel/}) holding gzip (level 1) chunks and a
 * {@code .zarray}. Chunks are at most 64 MiB: the largest dim is halved (rounding up) until a chunk
 * fits, edge chunks are padded with zeros (zarr v2). Rank-0 tensors are stored inline as flax
 * numpy scalars (msgpack ext type 3).
 *
 * <p>Tensor names must start with {@code target/} or {@code state/} (see {@link
 * T5xCheckpointReader}). Adafactor state is completed to the layout T5X's Adafactor restores
 * ({@link AdafactorLayout}): at commit every parameter with any of the slots {@code v_row},
 * {@code v_col}, {@code v}, {@code m} gets the others as float32 zeros of shape [1]. Chunk data
 * goes to disk as each tensor arrives; only the small spec metadata is kept until {@link #commit},
 * which writes the msgpack file.
 *
 * <p>It writes into the folder it is given, which must exist; publishing is the caller's, who
 * stages it (or the model folder above it) with {@link AtomicFolder}: the folder's commit fsyncs
 * and renames, its close removes what a failed or abandoned writer left. A file that cannot be
 * written (a full disk) is an {@link OutputWriteException} naming the tensor and the file; the
 * writer is then unusable.
 */
public final class T5xCheckpointWriter implements CheckpointWriter {

  /** Largest chunk T5X writes. */
  public static final long DEFAULT_MAX_CHUNK_BYTES = 64L << 20;
  /** The msgpack {@code version} written. */
  public static final int VERSION = 3;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Opens a new file for writing; tests pass one that runs out of space. */
  @FunctionalInterface
  interface FileSink {
    OutputStream open(Path file) throws IOException;
  }

  private static final FileSink DEFAULT_SINK =
      file -> Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

  /** A tensor stored as a zarr array; only its metadata is kept. */
  private record ZarrEntry(TensorInfo info, String kvPath, long[] chunks) {}

  /** A rank-0 tensor stored inline. */
  private record InlineEntry(TensorInfo info, byte[] bytes) {}

  private final Path folder;
  private final long maxChunkBytes;
  private final FileSink sink;
  /** The file being written, named when writing it fails. */
  private Path writing;
  private final Map<String, Object> params = new TreeMap<>();
  private final Map<String, Object> state = new TreeMap<>();
  private final Set<String> kvPaths = new HashSet<>();
  /** What was written under {@code state/}, for {@link AdafactorLayout#missing}. */
  private final List<TensorInfo> stateInfos = new ArrayList<>();
  private boolean committed;
  private boolean closed;
  private boolean failed;

  private T5xCheckpointWriter(Path folder, long maxChunkBytes, FileSink sink) {
    this.folder = folder;
    this.maxChunkBytes = maxChunkBytes;
    this.sink = sink;
    state.put("param_states", new TreeMap<String, Object>());
  }

  /** {@code modelDir/checkpoint_<step>}, the folder name T5X uses. */
  public static Path checkpointDir(Path modelDir, long step) {
    checkArgument(step >= 0, "step %s < 0", step);
    return modelDir.resolve("checkpoint_" + step);
  }

  /**
   * Starts writing a checkpoint into {@code checkpointDir}, an existing folder (a stage, or a
   * {@code checkpoint_<step>} folder made inside one).
   *
   * @throws FileAlreadyExistsException when the folder already holds a msgpack {@code checkpoint} file
   */
  public static T5xCheckpointWriter create(Path checkpointDir) throws IOException {
    return create(checkpointDir, DEFAULT_MAX_CHUNK_BYTES);
  }

  /** As {@link #create(Path)} with another chunk size limit (tests use tiny ones). */
  static T5xCheckpointWriter create(Path checkpointDir, long maxChunkBytes) throws IOException {
    return create(checkpointDir, maxChunkBytes, DEFAULT_SINK);
  }

  /** As {@link #create(Path, long)} writing files through {@code sink} (tests: a disk that fills up). */
  static T5xCheckpointWriter create(Path checkpointDir, long maxChunkBytes, FileSink sink) throws IOException {
    checkNotNull(checkpointDir, "checkpointDir");
    checkNotNull(sink, "sink");
    checkArgument(maxChunkBytes >= 8, "maxChunkBytes %s < 8", maxChunkBytes);
    Path folder = checkpointDir.toAbsolutePath().normalize();
    checkArgument(Files.isDirectory(folder),
        "T5X checkpoint folder %s does not exist (stage it with AtomicFolder)", folder);
    Path index = folder.resolve(T5xCheckpointReader.MSGPACK_FILE);
    if (Files.exists(index)) {
      throw new FileAlreadyExistsException(index.toString(), null,
          "the folder given for a new T5X checkpoint already holds one");
    }
    return new T5xCheckpointWriter(folder, maxChunkBytes, sink);
  }

  /** The folder written into. */
  public Path folder() {
    return folder;
  }

  @Override
  public void write(RawTensor tensor) throws IOException {
    checkNotNull(tensor, "tensor");
    checkState(!committed && !closed, "writer for %s is already %s", folder,
        committed ? "committed" : "closed");
    TensorInfo info = tensor.info();
    String name = info.name();
    checkArgument(info.dtype() != DType.STRING, "tensor %s: string tensors cannot be written to T5X", name);
    List<String> parts = List.of(name.split("/", -1));
    checkArgument(parts.size() >= 2 && (parts.get(0).equals("target") || parts.get(0).equals("state")),
        "tensor %s: T5X names start with 'target/' or 'state/'", name);
    for (String p : parts) {
      checkArgument(!p.isEmpty() && !p.equals(".") && !p.equals("..") && p.indexOf('\\') < 0,
          "tensor %s: bad path component '%s'", name, p);
    }
    String kvPath = name.replace('/', '.');
    checkArgument(!kvPaths.contains(kvPath),
        "tensor %s: its folder name %s is already used by another tensor", name, kvPath);
    Object leaf;
    if (info.rank() == 0) {
      leaf = new InlineEntry(info, tensor.bytes());
    } else {
      long[] chunks = ChunkGrid.chooseChunks(info.shape(), info.dtype().byteSize(), maxChunkBytes);
      leaf = new ZarrEntry(info, kvPath, chunks);
    }
    insert(parts, leaf);
    kvPaths.add(kvPath);
    if (parts.get(0).equals("state")) {
      stateInfos.add(info);
    }
    if (leaf instanceof ZarrEntry z) {
      try {
        writeZarr(z, tensor.data());
      } catch (IOException e) {
        failed = true;
        throw new OutputWriteException(describe(), "tensor '" + name + "'", writing, e);
      } catch (RuntimeException e) {
        failed = true;
        throw e;
      }
    }
  }

  @SuppressWarnings("unchecked")
  private void insert(List<String> parts, Object leaf) {
    Map<String, Object> node = parts.get(0).equals("target") ? params : state;
    for (int i = 1; i < parts.size() - 1; i++) {
      Object child = node.computeIfAbsent(parts.get(i), k -> new TreeMap<String, Object>());
      checkArgument(child instanceof Map, "tensor %s: '%s' is already a tensor, not a folder",
          String.join("/", parts), String.join("/", parts.subList(0, i + 1)));
      node = (Map<String, Object>) child;
    }
    String last = parts.get(parts.size() - 1);
    checkArgument(!node.containsKey(last), "tensor %s is written twice or is also a folder of tensors",
        String.join("/", parts));
    node.put(last, leaf);
  }

  private void writeZarr(ZarrEntry z, ByteBuffer data) throws IOException {
    TensorInfo info = z.info();
    Path dir = folder.resolve(z.kvPath());
    writing = dir;
    Files.createDirectory(dir);
    Map<String, Object> zarray = new LinkedHashMap<>();
    zarray.put("chunks", z.chunks());
    zarray.put("compressor", Map.of("id", "gzip", "level", 1));
    zarray.put("dimension_separator", ".");
    zarray.put("dtype", ZarrDTypes.zarrName(info.dtype()));
    zarray.put("fill_value", 0);
    zarray.put("filters", null);
    zarray.put("order", "C");
    zarray.put("shape", info.shape());
    zarray.put("zarr_format", 2);
    writing = dir.resolve(".zarray");
    try (OutputStream out = sink.open(writing)) {
      JSON.writeValue(out, zarray);
    }
    if (info.numElements() == 0) {
      return;
    }
    ChunkGrid grid = new ChunkGrid(info.shape(), z.chunks(), info.dtype().byteSize());
    byte[] chunk = new byte[Math.toIntExact(grid.chunkBytes())];
    for (long k = 0; k < grid.numChunks(); k++) {
      long[] idx = grid.chunkIndex(k);
      java.util.Arrays.fill(chunk, (byte) 0);
      grid.arrayToChunk(idx, data, chunk);
      writing = dir.resolve(ChunkGrid.key(idx, "."));
      try (OutputStream out = new Gzip1(sink.open(writing))) {
        out.write(chunk);
      }
    }
  }

  /** gzip at level 1, as T5X writes chunks. */
  private static final class Gzip1 extends GZIPOutputStream {
    Gzip1(OutputStream out) throws IOException {
      super(new BufferedOutputStream(out, 1 << 16), 1 << 16);
      def.setLevel(1);
    }
  }

  @Override
  public void commit() throws IOException {
    checkState(!committed && !closed, "writer for %s is already %s", folder,
        committed ? "committed" : "closed");
    checkState(!failed, "writer for %s cannot commit: writing a tensor failed earlier", folder);
    writeUnusedAdafactorSlots();
    Path index = folder.resolve(T5xCheckpointReader.MSGPACK_FILE);
    try (OutputStream out = new BufferedOutputStream(sink.open(index), 1 << 16);
        MessagePacker p = MessagePack.newDefaultPacker(out)) {
      Map<String, Object> optimizer = new TreeMap<>();
      optimizer.put("state", state);
      optimizer.put("target", params);
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("version", VERSION);
      root.put("optimizer", optimizer);
      pack(p, root);
    } catch (IOException e) {
      failed = true;
      throw new OutputWriteException(describe(), "the msgpack file", index, e);
    }
    committed = true;
  }

  private String describe() {
    return "T5X checkpoint " + folder;
  }

  /** T5X's Adafactor restores every parameter's state with all four slots: the unused ones are [1] zeros. */
  private void writeUnusedAdafactorSlots() throws IOException {
    List<TensorInfo> missing;
    try {
      missing = AdafactorLayout.missing(stateInfos);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot write " + folder + ": " + e.getMessage(), e);
    }
    for (TensorInfo slot : missing) {
      write(new RawTensor(slot, ByteBuffer.allocate(Math.toIntExact(slot.byteSize()))));
    }
  }

  @SuppressWarnings("unchecked")
  private static void pack(MessagePacker p, Object v) throws IOException {
    if (v instanceof Map<?, ?> m) {
      p.packMapHeader(m.size());
      for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
        p.packString(e.getKey());
        pack(p, e.getValue());
      }
    } else if (v instanceof ZarrEntry z) {
      Map<String, Object> spec = new LinkedHashMap<>();
      spec.put("driver", "zarr");
      spec.put("dtype", z.info().dtype().numpyName());
      spec.put("kvstore", Map.of("driver", "file", "path", z.kvPath()));
      Map<String, Object> meta = new LinkedHashMap<>();
      meta.put("chunks", z.chunks());
      Map<String, Object> compressor = new LinkedHashMap<>();
      compressor.put("id", "gzip");
      compressor.put("level", 1L);
      meta.put("compressor", compressor);
      meta.put("dtype", ZarrDTypes.zarrName(z.info().dtype()));
      meta.put("shape", z.info().shape());
      spec.put("metadata", meta);
      pack(p, spec);
    } else if (v instanceof InlineEntry in) {
      MessageBufferPacker payload = MessagePack.newDefaultBufferPacker();
      payload.packArrayHeader(3);
      payload.packArrayHeader(0);
      payload.packString(in.info().dtype().numpyName());
      payload.packBinaryHeader(in.bytes().length);
      payload.writePayload(in.bytes());
      byte[] bytes = payload.toByteArray();
      p.packExtensionTypeHeader(MsgpackTree.EXT_NPSCALAR, bytes.length);
      p.writePayload(bytes);
    } else if (v instanceof long[] a) {
      p.packArrayHeader(a.length);
      for (long x : a) {
        p.packLong(x);
      }
    } else if (v instanceof String s) {
      p.packString(s);
    } else if (v instanceof Number n) {
      p.packLong(n.longValue());
    } else {
      throw new IllegalStateException("cannot pack " + v);
    }
  }

  /** Marks the writer closed; its files (complete or not) stay in the folder for the caller's stage. */
  @Override
  public void close() {
    closed = true;
  }

}
