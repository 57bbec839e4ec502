package dev.upcycle.ckpt.t5x;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.FileErrors;
import dev.upcycle.ckpt.TensorInfo;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.UncheckedIOException;
import java.nio.file.LinkOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * One zarr v2 array on local disk, resolved from a tensorstore spec (+ optional {@code .zarray}):
 * where its chunks are, their shape, dtype and compression. {@link #read} assembles the whole
 * array in C order, one chunk at a time (memory: the array plus one chunk). Every chunk file is
 * opened through {@link CheckpointFolder#resolve}: a chunk that links out of the checkpoint folder
 * is refused, not read; a chunk that is absent (no file, no link) holds the fill value.
 */
final class ZarrArray {

  /** Chunk compression codecs this reader decodes. */
  enum Compressor { NONE, GZIP, ZLIB }

  private final TensorInfo info;
  private final CheckpointFolder folder;
  private final Path dir;
  private final long[] chunks;
  private final boolean bigEndian;
  private final Compressor compressor;
  private final byte[] fill;
  private final String separator;

  ZarrArray(TensorInfo info, CheckpointFolder folder, Path dir, long[] chunks, boolean bigEndian,
      Compressor compressor, byte[] fill, String separator) {
    this.info = info;
    this.folder = folder;
    this.dir = dir;
    this.chunks = chunks.clone();
    this.bigEndian = bigEndian;
    this.compressor = compressor;
    this.fill = fill.clone();
    this.separator = separator;
  }

  TensorInfo info() {
    return info;
  }

  Path dir() {
    return dir;
  }

  long[] chunks() {
    return chunks.clone();
  }

  /** Reads every chunk; missing chunk files hold the fill value. */
  byte[] read() throws IOException {
    String name = info.name();
    long total = info.byteSize();
    if (total > Integer.MAX_VALUE - 16) {
      throw new CheckpointFormatException(dir, name,
          "tensor of " + total + " bytes is larger than one Java array (2 GiB)");
    }
    int itemSize = info.dtype().byteSize();
    byte[] out = new byte[(int) total];
    if (!isZero(fill)) {
      for (int i = 0; i < out.length; i += itemSize) {
        System.arraycopy(fill, 0, out, i, itemSize);
      }
    }
    if (total == 0) {
      return out;
    }
    ChunkGrid grid = new ChunkGrid(info.shape(), chunks, itemSize);
    long chunkBytes = grid.chunkBytes();
    if (chunkBytes > Integer.MAX_VALUE - 16) {
      throw new CheckpointFormatException(dir, name,
          "chunk of " + chunkBytes + " bytes is larger than one Java array (2 GiB)");
    }
    if (!CheckpointFolder.present(dir)) {
      // A missing chunk file means fill_value, but a missing folder means an incomplete copy.
      throw new CheckpointFormatException(dir, name, "the chunk folder of this tensor does not exist"
          + " (incomplete checkpoint copy?); only single missing chunk files mean fill_value");
    }
    Path realDir = folder.resolveDir(dir, name);
    byte[] chunk = new byte[(int) chunkBytes];
    // The chunk files present, not every key of the grid: a grid of a billion tiny chunks is
    // not a billion file lookups.
    for (Map.Entry<String, long[]> e : presentChunks(realDir, grid).entrySet()) {
      Path file = dir.resolve(e.getKey());
      readChunk(file, folder.resolve(file, name), chunk);
      if (bigEndian) {
        swap(chunk, itemSize);
      }
      grid.chunkToArray(e.getValue(), chunk, out);
    }
    return out;
  }

  /**
   * The chunk files under {@code realDir} (links included, not followed) by key, in key order, with
   * their grid index; other files ({@code .zarray}, {@code .zattrs}) and keys outside the grid are
   * not chunks of this array and are passed over, as zarr does.
   */
  private Map<String, long[]> presentChunks(Path realDir, ChunkGrid grid) throws IOException {
    int rank = info.rank();
    int depth = separator.equals("/") ? Math.max(1, rank) : 1;
    Map<String, long[]> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(realDir, depth)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        if (Files.isSymbolicLink(p) && Files.isDirectory(p)) {
          throw new CheckpointFormatException(p, info.name(), "is a link to a folder: the chunk files of a zarr"
              + " array lie in real folders inside the checkpoint folder");
        }
        String key = realDir.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
        long[] idx = grid.parseKey(key, separator);
        if (idx != null) {
          out.put(key, idx);
        }
      }
    } catch (IOException | UncheckedIOException e) {
      IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
      throw FileErrors.cannotRead(dir, info.name(), io);
    }
    return out;
  }

  /** Decodes the chunk file {@code file} (read at its real path {@code real}) into {@code chunk}. */
  private void readChunk(Path file, Path real, byte[] chunk) throws IOException {
    String name = info.name();
    InputStream stream;
    try {
      stream = Files.newInputStream(real);
    } catch (IOException e) {
      throw FileErrors.cannotRead(file, name, e);
    }
    try (InputStream raw = new BufferedInputStream(stream, 1 << 16);
        InputStream in = decoder(raw)) {
      int n = in.readNBytes(chunk, 0, chunk.length);
      if (n < chunk.length) {
        throw new CheckpointFormatException(file, name, "chunk decompresses to " + n
            + " bytes, expected " + chunk.length + " (chunk shape " + Arrays.toString(chunks)
            + " x " + info.dtype().byteSize() + " bytes)");
      }
      if (in.read() >= 0) {
        throw new CheckpointFormatException(file, name, "chunk decompresses to more than "
            + chunk.length + " bytes (chunk shape " + Arrays.toString(chunks) + " x "
            + info.dtype().byteSize() + " bytes)");
      }
    } catch (CheckpointFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new CheckpointFormatException(file, name,
          "cannot decompress " + compressor.name().toLowerCase() + " chunk: " + e.getMessage(), e);
    }
  }

  private InputStream decoder(InputStream raw) throws IOException {
    switch (compressor) {
      case GZIP: return new GZIPInputStream(raw, 1 << 16);
      case ZLIB: return new InflaterInputStream(raw);
      default: return raw;
    }
  }

  private static void swap(byte[] b, int size) {
    for (int i = 0; i < b.length; i += size) {
      for (int lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
        byte t = b[lo];
        b[lo] = b[hi];
        b[hi] = t;
      }
    }
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  /** The little-endian bytes of one element equal to {@code value}, for a zarr fill_value. */
  static byte[] fillBytes(DType dtype, Object value) {
    int size = dtype.byteSize();
    byte[] out = new byte[size];
    if (value == null) {
      return out;
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(out).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    double d;
    if (value instanceof Boolean bool) {
      d = bool ? 1 : 0;
    } else if (value instanceof Number num) {
      d = num.doubleValue();
    } else if (value instanceof String s) {
      switch (s) {
        case "NaN": d = Double.NaN; break;
        case "Infinity": d = Double.POSITIVE_INFINITY; break;
        case "-Infinity": d = Double.NEGATIVE_INFINITY; break;
        default: return null;
      }
    } else {
      return null;
    }
    switch (dtype) {
      case FLOAT32: b.putFloat((float) d); break;
      case FLOAT64: b.putDouble(d); break;
      case BFLOAT16: b.putShort((short) (Float.floatToRawIntBits((float) d) >>> 16)); break;
      case FLOAT16:
        if (d != 0) {
          return null;
        }
        break;
      case INT64: b.putLong((long) d); break;
      case INT32: b.putInt((int) d); break;
      case INT16: b.putShort((short) d); break;
      case INT8: case UINT8: case BOOL: b.put((byte) d); break;
      default: return null;
    }
    return out;
  }
}
