package dev.upcycle.ckpt.t5x;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.FileErrors;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.TextFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Turns a tensorstore spec found in a T5X msgpack file ({@code {driver: zarr, dtype, kvstore:
 * {driver: file|gfile, path}, metadata: {shape, chunks, compressor, dtype?}}}) into a {@link
 * ZarrArray}. A {@code .zarray} file in the array folder fills what the spec's {@code metadata}
 * leaves out; where both give a field that fixes how the bytes are read ({@link #AGREEING}), they
 * must agree, as TensorStore refuses to open an array whose metadata contradicts its spec. The
 * array folder and its {@code .zarray} must lie inside the checkpoint folder ({@link
 * CheckpointFolder}).
 */
final class TensorstoreSpec {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The metadata fields the spec and {@code .zarray} must agree on when both give them. */
  static final List<String> AGREEING =
      List.of("shape", "chunks", "dtype", "compressor", "fill_value", "order", "dimension_separator");

  private TensorstoreSpec() {}

  /** True when a msgpack map looks like a tensorstore spec (has a string {@code driver}). */
  static boolean isSpec(Map<String, Object> map) {
    return map.get("driver") instanceof String;
  }

  static ZarrArray resolve(CheckpointFolder folder, Path msgpackFile, String name, Map<String, Object> spec)
      throws IOException {
    String driver = (String) spec.get("driver");
    if (!driver.equals("zarr")) {
      throw new CheckpointFormatException(msgpackFile, name,
          "tensorstore driver '" + driver + "' is not supported (only zarr)");
    }
    Path dir = arrayDir(folder, msgpackFile, name, spec);
    Map<String, Object> meta = map(spec.get("metadata"), msgpackFile, name, "metadata");
    Path zarrayFile = dir.resolve(".zarray");
    Map<String, Object> zarray = readZarray(folder, zarrayFile, name);
    checkAgreement(msgpackFile, zarrayFile, name, spec, meta, zarray);

    Object shapeValue = pick(meta, zarray, "shape");
    if (shapeValue == null) {
      throw new CheckpointFormatException(msgpackFile, name,
          "no shape: neither the spec metadata nor " + dir.resolve(".zarray") + " gives one");
    }
    long[] shape = longs(shapeValue, msgpackFile, name, "shape");
    Object chunkValue = pick(meta, zarray, "chunks");
    long[] chunks = chunkValue == null ? shape.clone() : longs(chunkValue, msgpackFile, name, "chunks");
    if (chunks.length != shape.length) {
      throw new CheckpointFormatException(msgpackFile, name, "chunks " + Arrays.toString(chunks)
          + " and shape " + Arrays.toString(shape) + " differ in rank");
    }
    for (int d = 0; d < chunks.length; d++) {
      if (chunks[d] < 1 || shape[d] < 0) {
        throw new CheckpointFormatException(msgpackFile, name, "bad chunks " + Arrays.toString(chunks)
            + " for shape " + Arrays.toString(shape));
      }
    }

    ZarrDTypes.Parsed dtype = dtype(msgpackFile, name, spec, meta, zarray);
    ZarrArray.Compressor compressor = compressor(msgpackFile, name, meta, zarray, dir);

    Object order = pick(meta, zarray, "order");
    if (order != null && !"C".equals(order)) {
      throw new CheckpointFormatException(msgpackFile, name,
          "zarr order '" + order + "' is not supported (only C order)");
    }
    Object filters = pick(meta, zarray, "filters");
    if (filters instanceof List<?> l && !l.isEmpty() || filters != null && !(filters instanceof List)) {
      throw new CheckpointFormatException(msgpackFile, name,
          "zarr filters " + filters + " are not supported (expected null)");
    }
    Object fillValue = pick(meta, zarray, "fill_value");
    byte[] fill = ZarrArray.fillBytes(dtype.dtype(), fillValue);
    if (fill == null) {
      throw new CheckpointFormatException(msgpackFile, name,
          "fill_value " + fillValue + " is not supported for dtype " + dtype.dtype().numpyName());
    }
    Object sep = pick(meta, zarray, "dimension_separator");
    String separator = sep == null ? "." : String.valueOf(sep);
    if (!separator.equals(".") && !separator.equals("/")) {
      throw new CheckpointFormatException(msgpackFile, name,
          "dimension_separator '" + separator + "' is not '.' or '/'");
    }
    TensorInfo info;
    try {
      info = new TensorInfo(name, dtype.dtype(), shape);
    } catch (IllegalArgumentException e) {
      throw new CheckpointFormatException(msgpackFile, name, "bad shape: " + e.getMessage(), e);
    }
    try {
      ChunkGrid grid = new ChunkGrid(shape, chunks, dtype.dtype().byteSize());
      grid.chunkBytes();
      grid.numChunks();
    } catch (ArithmeticException e) {
      throw new CheckpointFormatException(msgpackFile, name, "chunks " + Arrays.toString(chunks) + " of shape "
          + Arrays.toString(shape) + ": the chunk size or count overflows a 64-bit count (corrupt metadata?)", e);
    }
    return new ZarrArray(info, folder, dir, chunks, dtype.bigEndian(), compressor, fill, separator);
  }

  /**
   * Refuses a {@code .zarray} that contradicts the spec (its {@code metadata}, or its top-level
   * {@code dtype}) in a field of {@link #AGREEING}, naming both files and both values.
   */
  private static void checkAgreement(Path msgpackFile, Path zarrayFile, String name, Map<String, Object> spec,
      Map<String, Object> meta, Map<String, Object> zarray) throws CheckpointFormatException {
    for (String key : AGREEING) {
      Object fromSpec = meta.get(key);
      String where = "the spec's metadata";
      if (fromSpec == null && key.equals("dtype") && spec.get("dtype") != null) {
        fromSpec = spec.get("dtype");
        where = "the spec";
      }
      Object fromZarray = zarray.get(key);
      if (fromSpec == null || fromZarray == null || same(key, fromSpec, fromZarray)) {
        continue;
      }
      throw new CheckpointFormatException(msgpackFile, name, where + " in this file gives " + key + " "
          + show(fromSpec) + " but " + zarrayFile + " gives " + key + " " + show(fromZarray)
          + ": they disagree (TensorStore refuses to open such an array)");
    }
  }

  /** Equal as zarr reads them: dtypes by their meaning ({@code float32} = {@code <f4}), numbers by value. */
  private static boolean same(String key, Object a, Object b) {
    switch (key) {
      case "dtype": {
        ZarrDTypes.Parsed pa = ZarrDTypes.parse(String.valueOf(a));
        ZarrDTypes.Parsed pb = ZarrDTypes.parse(String.valueOf(b));
        return pa != null && pa.equals(pb);
      }
      case "compressor":
        return a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb
            ? java.util.Objects.equals(ma.get("id"), mb.get("id")) : normal(a).equals(normal(b));
      default:
        return normal(a).equals(normal(b));
    }
  }

  /** Msgpack longs and JSON ints, floats and doubles compare by value; lists element by element. */
  private static Object normal(Object v) {
    if (v instanceof List<?> l) {
      return l.stream().map(TensorstoreSpec::normal).toList();
    }
    if (v instanceof Float || v instanceof Double) {
      double d = ((Number) v).doubleValue();
      return d == Math.rint(d) && !Double.isInfinite(d) ? (Object) (long) d : (Object) d;
    }
    if (v instanceof Number n) {
      return n.longValue();
    }
    return v == null ? "null" : v;
  }

  private static String show(Object v) {
    return v instanceof String s ? "'" + s + "'" : MsgpackTree.abbreviate(String.valueOf(v));
  }

  private static Path arrayDir(CheckpointFolder folder, Path msgpackFile, String name, Map<String, Object> spec)
      throws IOException {
    Object kv = spec.get("kvstore");
    Object pathValue;
    if (kv instanceof Map<?, ?> kvMap) {
      Object kvDriver = kvMap.get("driver");
      if (kvDriver != null && !"file".equals(kvDriver) && !"gfile".equals(kvDriver)) {
        throw new CheckpointFormatException(msgpackFile, name,
            "kvstore driver '" + kvDriver + "' is not supported (only file and gfile)");
      }
      pathValue = kvMap.get("path");
    } else if (kv instanceof String url) {
      pathValue = url;
    } else {
      pathValue = spec.get("path");
    }
    if (!(pathValue instanceof String path) || path.isEmpty()) {
      throw new CheckpointFormatException(msgpackFile, name, "tensorstore spec has no kvstore path");
    }
    String p = path.startsWith("file://") ? path.substring("file://".length()) : path;
    if (p.contains("://")) {
      throw new CheckpointFormatException(msgpackFile, name,
          "kvstore path '" + path + "' is not a local file path");
    }
    Path base = folder.dir();
    Path resolved;
    try {
      Path raw = Paths.get(p);
      resolved = (raw.isAbsolute() ? raw : base.resolve(raw)).normalize();
    } catch (InvalidPathException e) {
      throw new CheckpointFormatException(msgpackFile, name, "bad kvstore path '" + path + "'", e);
    }
    if (!resolved.startsWith(base) || resolved.equals(base)) {
      throw new CheckpointFormatException(msgpackFile, name, "kvstore path '" + path
          + "' resolves to " + resolved + ", outside the checkpoint folder " + base);
    }
    if (CheckpointFolder.present(resolved)) {
      folder.resolveDir(resolved, name); // a link out of the folder is refused, naming it
    }
    return resolved;
  }

  private static ZarrDTypes.Parsed dtype(Path msgpackFile, String name, Map<String, Object> spec,
      Map<String, Object> meta, Map<String, Object> zarray) throws CheckpointFormatException {
    Object metaDtype = meta.get("dtype");
    Object specDtype = spec.get("dtype");
    Object zarrDtype = zarray.get("dtype");
    Object chosen = metaDtype != null ? metaDtype : specDtype != null ? specDtype : zarrDtype;
    if (chosen == null) {
      throw new CheckpointFormatException(msgpackFile, name, "no dtype in the spec or .zarray");
    }
    ZarrDTypes.Parsed parsed = ZarrDTypes.parse(String.valueOf(chosen));
    if (parsed == null) {
      throw new CheckpointFormatException(msgpackFile, name, "unknown dtype '" + chosen
          + "' (known: float32/<f4, float64/<f8, float16/<f2, bfloat16, int8..int64, uint8, bool)");
    }
    if (metaDtype != null && specDtype != null) {
      ZarrDTypes.Parsed other = ZarrDTypes.parse(String.valueOf(specDtype));
      if (other == null || other.dtype() != parsed.dtype()) {
        throw new CheckpointFormatException(msgpackFile, name, "spec dtype '" + specDtype
            + "' disagrees with metadata dtype '" + metaDtype + "'");
      }
    }
    return parsed;
  }

  private static ZarrArray.Compressor compressor(Path msgpackFile, String name, Map<String, Object> meta,
      Map<String, Object> zarray, Path dir) throws CheckpointFormatException {
    Object c;
    if (meta.containsKey("compressor")) {
      c = meta.get("compressor");
    } else if (zarray.containsKey("compressor")) {
      c = zarray.get("compressor");
    } else {
      throw new CheckpointFormatException(msgpackFile, name,
          "no compressor in the spec metadata and no " + dir.resolve(".zarray"));
    }
    if (c == null) {
      return ZarrArray.Compressor.NONE;
    }
    Object id = c instanceof Map<?, ?> m ? m.get("id") : null;
    if ("gzip".equals(id)) {
      return ZarrArray.Compressor.GZIP;
    }
    if ("zlib".equals(id)) {
      return ZarrArray.Compressor.ZLIB;
    }
    throw new CheckpointFormatException(msgpackFile, name,
        "compressor " + c + " is not supported (gzip, zlib or null)");
  }

  private static Object pick(Map<String, Object> meta, Map<String, Object> zarray, String key) {
    return meta.containsKey(key) ? meta.get(key) : zarray.get(key);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> readZarray(CheckpointFolder folder, Path file, String name) throws IOException {
    if (!CheckpointFolder.present(file)) {
      return Map.of();
    }
    Path real = folder.resolve(file, name);
    try {
      // strict UTF-8 first: Jackson guesses UTF-32 from bytes 00 00 00 xx and then fails with a bare
      // CharConversionException (T5xFuzzTest, seed 14, .zarray case 1152)
      Object v = JSON.readValue(TextFiles.readUtf8(real, file, name), Object.class);
      if (!(v instanceof Map)) {
        throw new CheckpointFormatException(file, name, ".zarray is not a JSON object");
      }
      return (Map<String, Object>) v;
    } catch (JacksonException e) {
      throw new CheckpointFormatException(file, name, "cannot parse .zarray JSON: "
          + e.getOriginalMessage(), e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object v, Path file, String name, String what)
      throws CheckpointFormatException {
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map)) {
      throw new CheckpointFormatException(file, name, what + " is not a map: " + MsgpackTree.describe(v));
    }
    return (Map<String, Object>) v;
  }

  private static long[] longs(Object v, Path file, String name, String what)
      throws CheckpointFormatException {
    if (!(v instanceof List<?> list)) {
      throw new CheckpointFormatException(file, name, what + " is not a list: " + MsgpackTree.describe(v));
    }
    long[] out = new long[list.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(list.get(i) instanceof Number n) || n instanceof Double || n instanceof Float) {
        throw new CheckpointFormatException(file, name, what + " " + list + " holds a non-integer");
      }
      out[i] = n.longValue();
    }
    return out;
  }
}
