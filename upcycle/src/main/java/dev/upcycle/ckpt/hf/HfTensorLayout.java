package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * How a Hugging Face tensor's layout differs from the canonical one, as an axis permutation applied
 * to the bytes while streaming (one tensor at a time). A permutation moves whole elements, so every
 * dtype is kept as it is (float32, float16, bfloat16, float64, ...): nothing is converted or rounded.
 */
public enum HfTensorLayout {

  /** Stored as the canonical tensor is: same shape, same bytes. */
  SAME(null),
  /**
   * A 2-D tensor transposed: PyTorch {@code nn.Linear.weight} [out, in] → kernel [in, out]; the
   * relative attention bias [buckets, heads] → {@code rel_embedding} [heads, buckets].
   */
  TRANSPOSE_2D(new int[] {1, 0}),
  /** A PyTorch {@code nn.Conv2d.weight} OIHW [d, C, p, p] → the HWIO kernel [p, p, C, d]. */
  OIHW_TO_HWIO(new int[] {2, 3, 1, 0});

  /** Output axis k is input axis {@code perm[k]}; null for {@link #SAME}. */
  private final int[] perm;

  HfTensorLayout(int[] perm) {
    this.perm = perm;
  }

  /** The rank this layout needs, or -1 when any rank is accepted ({@link #SAME}). */
  public int rank() {
    return perm == null ? -1 : perm.length;
  }

  /** The canonical shape of a stored tensor of shape {@code stored}. */
  public long[] canonicalShape(long[] stored) {
    checkNotNull(stored, "stored shape");
    if (perm == null) {
      return stored.clone();
    }
    checkArgument(stored.length == perm.length, "%s needs a rank-%s tensor, got shape %s", this, perm.length,
        Arrays.toString(stored));
    long[] out = new long[perm.length];
    for (int k = 0; k < perm.length; k++) {
      out[k] = stored[perm[k]];
    }
    return out;
  }

  /**
   * The stored tensor in canonical layout, named {@code canonicalName}.
   *
   * @throws IllegalArgumentException when the tensor's rank is not the one this layout needs, or it
   *     holds variable-length strings
   */
  public RawTensor apply(RawTensor stored, String canonicalName) {
    checkNotNull(stored, "stored tensor");
    checkNotNull(canonicalName, "canonical name of %s", stored.name());
    TensorInfo in = stored.info();
    long[] shape = canonicalShape(in.shape());
    TensorInfo out = new TensorInfo(canonicalName, in.dtype(), shape);
    if (perm == null) {
      return new RawTensor(out, stored.data());
    }
    int elem = in.dtype().byteSize();
    checkArgument(elem > 0, "tensor %s: %s cannot be permuted (variable-length elements)", in.name(), in.dtype());
    return new RawTensor(out, permute(stored.data(), in.shape(), perm, elem));
  }

  /**
   * Moves the elements of a C-order tensor of shape {@code shape} so that output axis k is input
   * axis {@code perm[k]}; {@code elem} bytes per element.
   */
  static ByteBuffer permute(ByteBuffer data, long[] shape, int[] perm, int elem) {
    int rank = shape.length;
    long[] inStride = new long[rank];
    long s = 1;
    for (int a = rank - 1; a >= 0; a--) {
      inStride[a] = s;
      s = Math.multiplyExact(s, shape[a]);
    }
    int count = Math.toIntExact(s);
    byte[] src = new byte[Math.multiplyExact(count, elem)];
    data.duplicate().get(src);
    byte[] dst = new byte[src.length];
    long[] outShape = new long[rank];
    long[] step = new long[rank]; // input stride of each output axis
    for (int k = 0; k < rank; k++) {
      outShape[k] = shape[perm[k]];
      step[k] = inStride[perm[k]];
    }
    long[] index = new long[rank];
    long from = 0;
    for (int to = 0; to < count; to++) {
      System.arraycopy(src, (int) (from * elem), dst, to * elem, elem);
      for (int k = rank - 1; k >= 0; k--) { // odometer over output indices, C order
        index[k]++;
        from += step[k];
        if (index[k] < outShape[k]) {
          break;
        }
        from -= step[k] * outShape[k];
        index[k] = 0;
      }
    }
    return ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN);
  }
}
