package dev.upcycle.savedmodels.rest;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Joining and cutting {@link HostTensor}s along dimension 0, the batch dimension, as TF Serving's
 * batching does with {@code tensor::Concat} and {@code tensor::Split}: tensors {@code [n_i, d_1, …]}
 * of one dtype and one inner shape {@code [d_1, …]} join into {@code [Σ n_i, d_1, …]}, and a
 * tensor {@code [n, d_1, …]} cuts into consecutive row ranges. A tensor whose dtype has no values
 * here ({@link HostTensor#hasValues()} false) keeps only its shape, as {@link HostTensor} does.
 */
public final class HostTensors {

  private HostTensors() {}

  /**
   * The rows of dimension 0 of {@code t}.
   *
   * @throws IllegalArgumentException for a scalar
   */
  public static long rows(HostTensor t) {
    checkArgument(checkNotNull(t, "tensor").rank() > 0, "a scalar has no batch dimension");
    return t.dim(0);
  }

  /** The shape after dimension 0 ({@code [d_1, …]} of {@code [n, d_1, …]}); a scalar has none. */
  public static long[] innerShape(HostTensor t) {
    long[] shape = checkNotNull(t, "tensor").shape();
    return shape.length == 0 ? shape : Arrays.copyOfRange(shape, 1, shape.length);
  }

  /**
   * {@code parts} joined along dimension 0, in order: {@code [n_1 + … + n_k, d_1, …]}.
   *
   * @throws IllegalArgumentException for no parts, a scalar, or parts of different dtypes or inner shapes
   */
  public static HostTensor concat(List<HostTensor> parts) {
    checkArgument(!checkNotNull(parts, "parts").isEmpty(), "nothing to concatenate");
    HostTensor first = parts.get(0);
    long[] inner = innerShape(first);
    long rows = 0;
    for (int i = 0; i < parts.size(); i++) {
      HostTensor p = checkNotNull(parts.get(i), "part %s", i);
      checkArgument(p.dtype() == first.dtype(), "part %s is %s, part 0 %s", i, TfTypes.name(p.dtype()),
          TfTypes.name(first.dtype()));
      checkArgument(p.rank() > 0 && Arrays.equals(innerShape(p), inner),
          "part %s has shape %s, which does not extend part 0's %s along dimension 0", i, TfTypes.shape(p.shape()),
          TfTypes.shape(first.shape()));
      rows = Math.addExact(rows, p.dim(0));
    }
    if (parts.size() == 1) {
      return first;
    }
    long[] shape = first.shape();
    shape[0] = rows;
    Values out = new Values(first, HostTensor.size(shape));
    for (HostTensor p : parts) {
      out.append(p, 0, p.size());
    }
    return out.tensor(shape);
  }

  /**
   * Rows {@code [start, start + count)} of dimension 0 of {@code t}: {@code [count, d_1, …]}.
   *
   * @throws IllegalArgumentException for a scalar or a range outside {@code [0, n]}
   */
  public static HostTensor slice(HostTensor t, long start, long count) {
    long rows = rows(t);
    checkArgument(start >= 0 && count >= 0 && start + count <= rows, "rows [%s, %s) are not within the %s rows of %s",
        start, start + count, rows, TfTypes.shape(t.shape()));
    if (start == 0 && count == rows) {
      return t;
    }
    long[] shape = t.shape();
    shape[0] = count;
    long rowSize = HostTensor.size(innerShape(t));
    Values out = new Values(t, HostTensor.size(shape));
    out.append(t, start * rowSize, count * rowSize);
    return out.tensor(shape);
  }

  /**
   * {@code t} cut along dimension 0 into consecutive pieces of {@code sizes} rows.
   *
   * @throws IllegalArgumentException when the sizes do not add up to the rows of {@code t}
   */
  public static List<HostTensor> split(HostTensor t, long[] sizes) {
    long total = Arrays.stream(checkNotNull(sizes, "sizes")).sum();
    checkArgument(total == rows(t), "sizes %s add up to %s rows, the tensor %s has %s", Arrays.toString(sizes), total,
        TfTypes.shape(t.shape()), rows(t));
    List<HostTensor> pieces = new ArrayList<>(sizes.length);
    long start = 0;
    for (long size : sizes) {
      pieces.add(slice(t, start, size));
      start += size;
    }
    return pieces;
  }

  /** The values of a tensor being built, in the array its dtype's {@link HostTensor.Kind} uses. */
  private static final class Values {
    private final HostTensor.Kind kind;
    private final org.tensorflow.proto.DataType dtype;
    private final double[] reals;
    private final long[] integers;
    private final byte[][] strings;
    private int next;

    Values(HostTensor like, long size) {
      checkArgument(size <= Integer.MAX_VALUE, "a tensor of %s values is too large to hold in Java memory", size);
      this.dtype = like.dtype();
      this.kind = like.hasValues() ? HostTensor.kind(dtype) : HostTensor.Kind.NONE;
      int n = (int) size;
      reals = kind == HostTensor.Kind.REAL ? new double[n] : null;
      integers = kind == HostTensor.Kind.INTEGER ? new long[n] : null;
      strings = kind == HostTensor.Kind.STRING ? new byte[n][] : null;
    }

    /** Appends values {@code [from, from + count)} of {@code t} (row-major). */
    void append(HostTensor t, long from, long count) {
      int f = (int) from;
      for (int i = 0; i < count; i++) {
        switch (kind) {
          case REAL -> reals[next] = t.real(f + i);
          case INTEGER -> integers[next] = t.integer(f + i);
          case STRING -> strings[next] = t.string(f + i);
          case NONE -> { }
        }
        next++;
      }
    }

    HostTensor tensor(long[] shape) {
      return switch (kind) {
        case REAL -> HostTensor.of(dtype, shape, reals);
        case INTEGER -> HostTensor.of(dtype, shape, integers);
        case STRING -> HostTensor.of(dtype, shape, strings);
        case NONE -> HostTensor.of(dtype, shape, null);
      };
    }
  }
}
