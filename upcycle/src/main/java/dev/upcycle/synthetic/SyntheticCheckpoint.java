package dev.upcycle.synthetic;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.names.CanonicalNames;
import dev.upcycle.plan.FloatCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes a dense T5 v1.1 checkpoint with canonical names and random values (uniform in ±0.05),
 * for benchmarks and tests: the real shapes of a config without training anything. Optionally with
 * optimizer slots: Adafactor ({@code v_row} [rows], {@code v_col} [cols] for 2-D params, {@code v}
 * for 1-D) or Adam ({@code m}, {@code v} shaped like the param), and {@code state/step}.
 */
public final class SyntheticCheckpoint {

  /** Which optimizer slots to add. */
  public enum Slots { NONE, ADAFACTOR, ADAM }

  private SyntheticCheckpoint() {}

  /** The parameters of a T5 v1.1 model with config {@code c}, canonical names, in {@code dtype}. */
  public static List<TensorInfo> t5Params(T5Config c, DType dtype) {
    List<TensorInfo> out = new ArrayList<>();
    long d = c.dModel();
    long inner = (long) c.numHeads() * c.dKv();
    out.add(new TensorInfo("token_embedder/embedding", dtype, new long[] {c.vocabSize(), d}));
    for (String stack : new String[] {"encoder", "decoder"}) {
      int layers = stack.equals("encoder") ? c.encoderLayers() : c.decoderLayers();
      out.add(new TensorInfo(stack + "/relpos_bias/rel_embedding", dtype, new long[] {c.numHeads(), c.relativeBuckets()}));
      for (int i = 0; i < layers; i++) {
        String p = stack + "/layers_" + i + "/";
        List<String> attn = stack.equals("encoder") ? List.of("attention") : List.of("self_attention",
            "encoder_decoder_attention");
        List<String> norms = stack.equals("encoder") ? List.of("pre_attention_layer_norm", "pre_mlp_layer_norm")
            : List.of("pre_self_attention_layer_norm", "pre_cross_attention_layer_norm", "pre_mlp_layer_norm");
        for (String a : attn) {
          for (String q : new String[] {"query", "key", "value"}) {
            out.add(new TensorInfo(p + a + "/" + q + "/kernel", dtype, new long[] {d, inner}));
          }
          out.add(new TensorInfo(p + a + "/out/kernel", dtype, new long[] {inner, d}));
        }
        for (String n : norms) {
          out.add(new TensorInfo(p + n + "/scale", dtype, new long[] {d}));
        }
        String mlp = CanonicalNames.mlp(stack + "/layers_" + i);
        out.add(new TensorInfo(mlp + "/wi_0/kernel", dtype, new long[] {d, c.dFf()}));
        out.add(new TensorInfo(mlp + "/wi_1/kernel", dtype, new long[] {d, c.dFf()}));
        out.add(new TensorInfo(mlp + "/wo/kernel", dtype, new long[] {c.dFf(), d}));
      }
      out.add(new TensorInfo(stack + "/" + stack + "_norm/scale", dtype, new long[] {d}));
    }
    out.add(new TensorInfo("decoder/logits_dense/kernel", dtype, new long[] {d, c.vocabSize()}));
    return out;
  }

  /** The optimizer slots of {@code params} (float32). */
  public static List<TensorInfo> slots(List<TensorInfo> params, Slots slots) {
    List<TensorInfo> out = new ArrayList<>();
    for (TensorInfo p : params) {
      String n = p.name();
      long[] s = p.shape();
      switch (slots) {
        case NONE -> { }
        case ADAM -> {
          out.add(new TensorInfo(CanonicalNames.slot(n, CanonicalNames.M), DType.FLOAT32, s));
          out.add(new TensorInfo(CanonicalNames.slot(n, CanonicalNames.V), DType.FLOAT32, s));
        }
        case ADAFACTOR -> {
          if (s.length == 2) {
            out.add(new TensorInfo(CanonicalNames.slot(n, CanonicalNames.V_ROW), DType.FLOAT32, new long[] {s[0]}));
            out.add(new TensorInfo(CanonicalNames.slot(n, CanonicalNames.V_COL), DType.FLOAT32, new long[] {s[1]}));
          } else {
            out.add(new TensorInfo(CanonicalNames.slot(n, CanonicalNames.V), DType.FLOAT32, s));
          }
        }
      }
    }
    return out;
  }

  /**
   * Writes the bundle {@code prefix} (its folder appears atomically) with the params of {@code c},
   * their slots and {@code state/step} (int64). Returns the tensor bytes written.
   */
  public static long writeT5(Path prefix, T5Config c, DType dtype, Slots slots, long step, long seed)
      throws IOException {
    checkArgument(dtype.isFloating(), "dtype %s is not floating point", dtype);
    List<TensorInfo> params = t5Params(c, dtype);
    List<TensorInfo> all = new ArrayList<>(params);
    all.addAll(slots(params, slots));
    long bytes = 0;
    SplittableRandom rnd = new SplittableRandom(seed);
    try (AtomicFolder folder = AtomicFolder.stage(prefix.toAbsolutePath().getParent(), false);
        TfBundleWriter w = TfBundleWriter.create(folder.path().resolve(prefix.getFileName()))) {
      for (TensorInfo t : all) {
        w.write(random(t, rnd));
        bytes += t.byteSize();
      }
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, step);
      w.write(new RawTensor(new TensorInfo(CanonicalNames.STEP, DType.INT64, new long[0]), b));
      w.commit();
      folder.commit();
    }
    return bytes + 8;
  }

  /** A tensor of uniform values in ±0.05 (slots: in [0, 0.01)). */
  public static RawTensor random(TensorInfo t, SplittableRandom rnd) {
    int n = Math.toIntExact(t.numElements());
    boolean slot = CanonicalNames.isState(t.name());
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    final int block = 1 << 16;
    double[] v = new double[Math.min(n, block)];
    for (int from = 0; from < n; from += block) {
      int len = Math.min(block, n - from);
      if (v.length != len) {
        v = new double[len];
      }
      for (int i = 0; i < len; i++) {
        v[i] = slot ? rnd.nextDouble() * 0.01 : (rnd.nextDouble() - 0.5) * 0.1;
      }
      FloatCodec.encode(v, t.dtype(), b, from);
    }
    return new RawTensor(t, b);
  }
}
