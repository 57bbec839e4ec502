package dev.upcycle.ckpt.t5x;

import java.util.Arrays;

/**
 * The zarr v2 chunk grid of one C-order array: chunk {@code c} along dim {@code d} covers
 * elements {@code [c * chunks[d], min((c + 1) * chunks[d], shape[d]))}. Edge chunks are stored
 * full-size (padded), so every chunk holds {@code prod(chunks)} elements in C order.
 */
final class ChunkGrid {

  private final long[] shape;
  private final long[] chunks;
  private final long[] grid;
  private final int itemSize;

  /** {@code shape} and {@code chunks} have the same rank; every chunk dim is at least 1. */
  ChunkGrid(long[] shape, long[] chunks, int itemSize) {
    this.shape = shape.clone();
    this.chunks = chunks.clone();
    this.itemSize = itemSize;
    this.grid = new long[shape.length];
    for (int d = 0; d < shape.length; d++) {
      grid[d] = (shape[d] + chunks[d] - 1) / chunks[d];
    }
  }

  /** Number of chunks along each dim ({@code [] } for a scalar, which has one chunk). */
  long[] gridShape() {
    return grid.clone();
  }

  long numChunks() {
    long n = 1;
    for (long g : grid) {
      n = Math.multiplyExact(n, g);
    }
    return n;
  }

  /** Bytes of one stored (padded) chunk. */
  long chunkBytes() {
    long n = itemSize;
    for (long c : chunks) {
      n = Math.multiplyExact(n, c);
    }
    return n;
  }

  /** The grid index of chunk number {@code k} in C order. */
  long[] chunkIndex(long k) {
    long[] idx = new long[grid.length];
    for (int d = grid.length - 1; d >= 0; d--) {
      idx[d] = k % grid[d];
      k /= grid[d];
    }
    return idx;
  }

  /** The zarr key of a chunk: indices joined by {@code separator}; "0" for a scalar. */
  static String key(long[] idx, String separator) {
    if (idx.length == 0) {
      return "0";
    }
    StringBuilder sb = new StringBuilder();
    for (int d = 0; d < idx.length; d++) {
      if (d > 0) {
        sb.append(separator);
      }
      sb.append(idx[d]);
    }
    return sb.toString();
  }

  /**
   * The grid index of the chunk whose zarr key is {@code key} ({@link #key}'s inverse), or null
   * when {@code key} is not the key of a chunk of this grid (another file, an index out of range,
   * a spelling {@link #key} does not produce such as {@code 01}).
   */
  long[] parseKey(String key, String separator) {
    if (grid.length == 0) {
      return key.equals("0") ? new long[0] : null;
    }
    String[] parts = key.split(java.util.regex.Pattern.quote(separator), -1);
    if (parts.length != grid.length) {
      return null;
    }
    long[] idx = new long[parts.length];
    for (int d = 0; d < parts.length; d++) {
      String p = parts[d];
      if (p.isEmpty() || p.length() > 18 || !p.chars().allMatch(ch -> ch >= '0' && ch <= '9')
          || p.length() > 1 && p.charAt(0) == '0') {
        return null;
      }
      idx[d] = Long.parseLong(p);
      if (idx[d] >= grid[d]) {
        return null;
      }
    }
    return idx;
  }

  /** Copies the valid part of chunk {@code idx} from {@code chunk} into the whole {@code array}. */
  void chunkToArray(long[] idx, byte[] chunk, byte[] array) {
    copy(idx, chunk, array, null);
  }

  /**
   * Copies the valid part of chunk {@code idx} from {@code array} (absolute indices, position
   * ignored) into {@code chunk}; padding is left as it is.
   */
  void arrayToChunk(long[] idx, java.nio.ByteBuffer array, byte[] chunk) {
    copy(idx, chunk, null, array);
  }

  /** Exactly one of {@code array} (read direction) and {@code source} (write direction) is set. */
  private void copy(long[] idx, byte[] chunk, byte[] array, java.nio.ByteBuffer source) {
    boolean toArray = source == null;
    int rank = shape.length;
    if (rank == 0) {
      if (toArray) {
        System.arraycopy(chunk, 0, array, 0, itemSize);
      } else {
        source.get(0, chunk, 0, itemSize);
      }
      return;
    }
    long[] start = new long[rank];
    long[] extent = new long[rank];
    for (int d = 0; d < rank; d++) {
      start[d] = idx[d] * chunks[d];
      extent[d] = Math.min(chunks[d], shape[d] - start[d]);
      if (extent[d] <= 0) {
        return;
      }
    }
    int run = Math.toIntExact(extent[rank - 1] * itemSize);
    // Walk every position of the leading rank-1 dims inside the chunk's valid extent.
    long[] pos = new long[rank];
    while (true) {
      long arrayOff = 0;
      long chunkOff = 0;
      for (int d = 0; d < rank; d++) {
        arrayOff = arrayOff * shape[d] + start[d] + pos[d];
        chunkOff = chunkOff * chunks[d] + pos[d];
      }
      int a = Math.toIntExact(arrayOff * itemSize);
      int c = Math.toIntExact(chunkOff * itemSize);
      if (toArray) {
        System.arraycopy(chunk, c, array, a, run);
      } else {
        source.get(a, chunk, c, run);
      }
      int d = rank - 2;
      while (d >= 0) {
        if (++pos[d] < extent[d]) {
          break;
        }
        pos[d] = 0;
        d--;
      }
      if (d < 0) {
        return;
      }
    }
  }

  /**
   * T5X-style chunk shape: start from the full shape and halve (rounding up) the largest dim until
   * a chunk holds at most {@code maxBytes} bytes. Zero-sized dims get chunk size 1.
   */
  static long[] chooseChunks(long[] shape, int itemSize, long maxBytes) {
    long[] c = new long[shape.length];
    for (int d = 0; d < shape.length; d++) {
      c[d] = Math.max(1, shape[d]);
    }
    while (bytes(c, itemSize) > maxBytes) {
      int largest = -1;
      for (int d = 0; d < c.length; d++) {
        if (c[d] > 1 && (largest < 0 || c[d] > c[largest])) {
          largest = d;
        }
      }
      if (largest < 0) {
        break;
      }
      c[largest] = (c[largest] + 1) / 2;
    }
    return c;
  }

  private static long bytes(long[] c, int itemSize) {
    long n = itemSize;
    for (long x : c) {
      n = Math.multiplyExact(n, x);
    }
    return n;
  }

  @Override
  public String toString() {
    return "shape " + Arrays.toString(shape) + " chunks " + Arrays.toString(chunks);
  }
}
