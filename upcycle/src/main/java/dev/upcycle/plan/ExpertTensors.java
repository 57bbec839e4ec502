package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Makes the bytes of one target tensor from one source tensor, per rule, in plain Java. The whole
 * target ([E, ...]) is built in one buffer; nothing else is kept.
 *
 * <p>Expert e of a TILE / GRANULAR rule is the dense tensor (GRANULAR: its chunk {@code e mod G} of
 * the d_ff axis) multiplied by the rule's {@link Rule#scale} ({@link GranularScaling}), then
 * Drop-Upcycling (the units of {@link Randoms#droppedUnits} re-drawn from N(0, std²), std of the
 * whole dense tensor), then noise {@code + N(0, (noise · std)²)}. With neither noise nor drop nor
 * scaling, and for non-float tensors, the bytes are copied as they are. Float math is in double;
 * the dtype is kept.
 *
 * <p>A fresh router [d, E] is drawn with the router initializer; in virtual groups
 * ({@link UpcycleOptions#routerVirtualGroups}) its column j is then replaced by column ⌊j / G⌋ —
 * Megatron-Core's {@code _process_router_param}: of its router weight [E, d] it keeps the first
 * E / G expert rows ({@code tensor_split(…, G, dim=0)[0]}) and repeats each row G times in place
 * ({@code row.repeat(G, 1)}, then {@code cat}), so the G experts cut from one dense copy share
 * one router column.
 */
public final class ExpertTensors {

  private ExpertTensors() {}

  /** The target of a TILE, GRANULAR or TILE_SLOT rule. */
  public static RawTensor expand(Rule rule, RawTensor source, UpcycleOptions options) {
    checkArgument(rule.kind() == Rule.Kind.TILE || rule.kind() == Rule.Kind.GRANULAR
        || rule.kind() == Rule.Kind.TILE_SLOT, "rule %s does not expand a tensor", rule);
    TensorInfo s = source.info();
    TensorInfo t = rule.target();
    DType dtype = s.dtype();
    int esize = dtype.byteSize();
    checkArgument(esize > 0, "tensor %s: %s elements cannot be tiled", s.name(), dtype);
    int experts = options.numExperts();
    long[] shape = s.shape();
    int axis = rule.kind() == Rule.Kind.TILE_SLOT ? -1 : rule.ffAxis();
    long outer = 1;
    long inner = 1;
    long f = 1;
    if (axis >= 0) {
      for (int i = 0; i < axis; i++) {
        outer *= shape[i];
      }
      f = shape[axis];
      for (int i = axis + 1; i < shape.length; i++) {
        inner *= shape[i];
      }
    } else {
      inner = s.numElements();
    }
    int g = rule.kind() == Rule.Kind.GRANULAR ? options.granularity() : 1;
    long w = axis >= 0 ? f / g : 1;
    long m = outer * w * inner; // elements per expert
    checkArgument(m * experts == t.numElements(), "rule %s: %s elements per expert do not fill %s", rule, m, t);
    double scale = rule.scale();
    boolean alter = rule.kind() != Rule.Kind.TILE_SLOT && dtype.isFloating()
        && (scale != 1.0 || options.noiseStddev() > 0 || options.dropUpcyclingRatio() > 0 && axis >= 0);
    ByteBuffer src = source.data();
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(Math.multiplyExact(m * experts, (long) esize)))
        .order(ByteOrder.LITTLE_ENDIAN);
    double std = alter ? std(src, dtype, s.numElements()) : 0;
    for (int e = 0; e < experts; e++) {
      long chunk = g > 1 && axis >= 0 ? e % g : 0;
      if (!alter) {
        for (long o = 0; o < outer; o++) {
          long from = (o * f + chunk * w) * inner;
          copy(src, from * esize, out, (e * m + o * w * inner) * esize, w * inner * esize);
        }
        continue;
      }
      double[] v = new double[Math.toIntExact(m)];
      for (long o = 0; o < outer; o++) {
        double[] run = FloatCodec.decode(src, dtype, (o * f + chunk * w) * inner, Math.toIntExact(w * inner));
        System.arraycopy(run, 0, v, Math.toIntExact(o * w * inner), run.length);
      }
      if (scale != 1.0) {
        for (int i = 0; i < v.length; i++) {
          v[i] *= scale;
        }
      }
      if (options.dropUpcyclingRatio() > 0 && axis >= 0) {
        int[] units = Randoms.droppedUnits(options.seed(), rule.mlp(), e, Math.toIntExact(w),
            options.dropUpcyclingRatio());
        SplittableRandom rnd = Randoms.stream(options.seed(), t.name() + "#drop", e);
        for (int u : units) {
          for (long o = 0; o < outer; o++) {
            for (long i = 0; i < inner; i++) {
              v[Math.toIntExact((o * w + u) * inner + i)] = std * Randoms.gaussian(rnd);
            }
          }
        }
      }
      if (options.noiseStddev() > 0) {
        double sigma = options.noiseStddev() * std;
        SplittableRandom rnd = Randoms.stream(options.seed(), t.name() + "#noise", e);
        for (int i = 0; i < v.length; i++) {
          v[i] += sigma * Randoms.gaussian(rnd);
        }
      }
      FloatCodec.encode(v, dtype, out, e * m);
    }
    out.rewind();
    return new RawTensor(t, out);
  }

  /** The target of a FRESH_ROUTER (router initializer) or FRESH_SLOT (zeros) rule. */
  public static RawTensor fresh(Rule rule, UpcycleOptions options) {
    TensorInfo t = rule.target();
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    if (rule.kind() == Rule.Kind.FRESH_ROUTER) {
      double[] values = Randoms.fill(options.routerInit(), t.shape(), options.seed(), t.name());
      if (options.routerVirtualGroups()) {
        values = virtualGroups(values, t.shape(), options.granularity());
      }
      FloatCodec.encode(values, t.dtype(), out, 0);
    } else {
      checkArgument(rule.kind() == Rule.Kind.FRESH_SLOT, "rule %s makes no fresh tensor", rule);
    }
    return new RawTensor(t, out);
  }

  /**
   * Router values [d, E] (row-major) in virtual groups of {@code g}: column j ← column ⌊j / g⌋, so
   * only the first E / g columns of the draw are kept, each repeated g times side by side.
   */
  static double[] virtualGroups(double[] router, long[] shape, int g) {
    checkArgument(shape.length == 2 && shape[1] % g == 0, "router %s: expected [d, E] with E a multiple of %s",
        java.util.Arrays.toString(shape), g);
    int rows = Math.toIntExact(shape[0]);
    int experts = Math.toIntExact(shape[1]);
    double[] out = new double[router.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < experts; j++) {
        out[i * experts + j] = router[i * experts + j / g];
      }
    }
    return out;
  }

  /** Population standard deviation of all elements. */
  static double std(ByteBuffer src, DType dtype, long n) {
    double sum = 0;
    double sq = 0;
    final int block = 1 << 16;
    for (long from = 0; from < n; from += block) {
      double[] v = FloatCodec.decode(src, dtype, from, (int) Math.min(block, n - from));
      for (double x : v) {
        sum += x;
        sq += x * x;
      }
    }
    if (n == 0) {
      return 0;
    }
    double mean = sum / n;
    return Math.sqrt(Math.max(0, sq / n - mean * mean));
  }

  private static void copy(ByteBuffer src, long from, ByteBuffer dst, long to, long len) {
    ByteBuffer a = src.duplicate();
    int base = a.position();
    a.position(Math.toIntExact(base + from)).limit(Math.toIntExact(base + from + len));
    ByteBuffer b = dst.duplicate();
    b.position(Math.toIntExact(to));
    b.put(a);
  }
}
