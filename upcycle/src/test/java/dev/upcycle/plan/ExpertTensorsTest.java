package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.graph.Initializer;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Drop-Upcycling, noise, granular split and fresh routers, against plain-Java expectations. */
class ExpertTensorsTest {

  private static final int D = 24;
  private static final int FF = 40;

  private static List<TensorInfo> mlp(DType dtype) {
    return List.of(new TensorInfo("encoder/layers_1/mlp/wi_0/kernel", dtype, new long[] {D, FF}),
        new TensorInfo("encoder/layers_1/mlp/wi_1/kernel", dtype, new long[] {D, FF}),
        new TensorInfo("encoder/layers_1/mlp/wo/kernel", dtype, new long[] {FF, D}),
        new TensorInfo("encoder/layers_0/mlp/wo/kernel", dtype, new long[] {FF, D}));
  }

  /** The targets of every expert rule, from random dense tensors. */
  private static Map<String, RawTensor[]> run(UpcycleOptions options, DType dtype) {
    UpcyclePlan plan = PlanBuilder.build(mlp(dtype), options);
    PlanCheck.check(plan).orThrow();
    SplittableRandom rnd = new SplittableRandom(42);
    Map<String, RawTensor[]> out = new java.util.HashMap<>();
    for (Rule r : plan.rules()) {
      if (r.kind() == Rule.Kind.TILE || r.kind() == Rule.Kind.GRANULAR) {
        RawTensor dense = SyntheticCheckpoint.random(r.source(), rnd);
        out.put(r.source().name(), new RawTensor[] {dense, ExpertTensors.expand(r, dense, options)});
      }
    }
    return out;
  }

  private static double[] all(RawTensor t) {
    return FloatCodec.decode(t.data(), t.info().dtype(), 0, (int) t.info().numElements());
  }

  /** Units (d_ff indices) of expert e where the expert differs from the dense tensor. */
  private static Set<Integer> changedUnits(double[] dense, double[] experts, int e, boolean unitsAreColumns) {
    Set<Integer> out = new TreeSet<>();
    int n = dense.length;
    for (int i = 0; i < n; i++) {
      if (Double.doubleToRawLongBits(dense[i]) != Double.doubleToRawLongBits(experts[e * n + i])) {
        out.add(unitsAreColumns ? i % FF : i / D);
      }
    }
    return out;
  }

  @Test
  void dropUpcyclingReinitialisesExactlyFloorRdffUnitsPerExpertDifferentlyPerExpert() {
    int experts = 4;
    double r = 0.3; // floor(0.3 * 40) = 12
    for (DType dtype : new DType[] {DType.FLOAT32, DType.BFLOAT16}) {
      Map<String, RawTensor[]> out = run(UpcycleOptions.defaults(experts).withDropUpcycling(r).withSeed(5), dtype);
      List<Set<Integer>> perExpert = new ArrayList<>();
      for (int e = 0; e < experts; e++) {
        double[] wi0 = all(out.get("encoder/layers_1/mlp/wi_0/kernel")[0]);
        Set<Integer> a = changedUnits(wi0, all(out.get("encoder/layers_1/mlp/wi_0/kernel")[1]), e, true);
        Set<Integer> b = changedUnits(all(out.get("encoder/layers_1/mlp/wi_1/kernel")[0]),
            all(out.get("encoder/layers_1/mlp/wi_1/kernel")[1]), e, true);
        Set<Integer> c = changedUnits(all(out.get("encoder/layers_1/mlp/wo/kernel")[0]),
            all(out.get("encoder/layers_1/mlp/wo/kernel")[1]), e, false);
        assertEquals(12, a.size(), dtype + " expert " + e + " wi_0 changed units " + a);
        assertEquals(a, b, "wi_0 and wi_1 re-initialise the same units");
        assertEquals(a, c, "wo rows match wi columns");
        assertEquals(dtype, out.get("encoder/layers_1/mlp/wo/kernel")[1].info().dtype());
        perExpert.add(a);
      }
      assertEquals(experts, new HashSet<>(perExpert).size(), "each expert drops different units: " + perExpert);
    }
    // The re-initialised values follow N(0, std(dense)^2): their std is close to the dense one.
    Map<String, RawTensor[]> big = run(UpcycleOptions.defaults(16).withDropUpcycling(0.5), DType.FLOAT32);
    double[] dense = all(big.get("encoder/layers_1/mlp/wi_0/kernel")[0]);
    double[] moe = all(big.get("encoder/layers_1/mlp/wi_0/kernel")[1]);
    double sq = 0;
    int n = 0;
    for (int e = 0; e < 16; e++) {
      for (int i = 0; i < dense.length; i++) {
        if (dense[i] != moe[e * dense.length + i]) {
          sq += moe[e * dense.length + i] * moe[e * dense.length + i];
          n++;
        }
      }
    }
    double std = ExpertTensors.std(big.get("encoder/layers_1/mlp/wi_0/kernel")[0].data(), DType.FLOAT32, dense.length);
    assertEquals(16 * 20 * D, n);
    assertEquals(std, Math.sqrt(sq / n), 0.05 * std);
  }

  @Test
  void noiseMakesCopiesDifferWithTheRequestedRelativeStd() {
    int experts = 4;
    double noise = 0.1;
    for (DType dtype : new DType[] {DType.FLOAT32, DType.BFLOAT16}) {
      RawTensor[] pair = run(UpcycleOptions.defaults(experts).withNoise(noise), dtype)
          .get("encoder/layers_1/mlp/wi_0/kernel");
      double[] dense = all(pair[0]);
      double[] moe = all(pair[1]);
      double std = ExpertTensors.std(pair[0].data(), dtype, dense.length);
      List<double[]> copies = new ArrayList<>();
      for (int e = 0; e < experts; e++) {
        double sq = 0;
        double[] copy = new double[dense.length];
        for (int i = 0; i < dense.length; i++) {
          copy[i] = moe[e * dense.length + i];
          sq += (copy[i] - dense[i]) * (copy[i] - dense[i]);
        }
        double rel = Math.sqrt(sq / dense.length) / std;
        // 960 samples: the sample std is within ~5% of 0.1; bfloat16 rounding adds ~0.3% of |x|.
        assertEquals(noise, rel, dtype == DType.FLOAT32 ? 0.01 : 0.015, dtype + " expert " + e);
        copies.add(copy);
      }
      for (int a = 0; a < experts; a++) {
        for (int b = a + 1; b < experts; b++) {
          assertNotEquals(java.util.Arrays.toString(copies.get(a)), java.util.Arrays.toString(copies.get(b)));
        }
      }
    }
  }

  @Test
  void plainTilingIsExactAndDenseLayersAreUntouched() {
    Map<String, RawTensor[]> out = run(UpcycleOptions.defaults(3), DType.BFLOAT16);
    RawTensor[] pair = out.get("encoder/layers_1/mlp/wo/kernel");
    byte[] d = pair[0].bytes();
    byte[] m = pair[1].bytes();
    assertEquals(3 * d.length, m.length);
    for (int e = 0; e < 3; e++) {
      assertArrayEquals(d, java.util.Arrays.copyOfRange(m, e * d.length, (e + 1) * d.length));
    }
    assertTrue(!out.containsKey("encoder/layers_0/mlp/wo/kernel"), "layer 0 is dense under every_other");
  }

  /** gelu (tanh form), as the model uses. */
  private static double gelu(double x) {
    return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  }

  /** wo(gelu(x·wi0) ⊙ x·wi1) for one token; kernels are row-major [d, f] and [f, d]. */
  private static double[] gatedMlp(double[] x, double[] wi0, double[] wi1, double[] wo, int f) {
    double[] y = new double[D];
    for (int j = 0; j < f; j++) {
      double a = 0;
      double b = 0;
      for (int i = 0; i < D; i++) {
        a += x[i] * wi0[i * f + j];
        b += x[i] * wi1[i * f + j];
      }
      double h = gelu(a) * b;
      for (int k = 0; k < D; k++) {
        y[k] += h * wo[j * D + k];
      }
    }
    return y;
  }

  private static double[] expert(double[] all, int e, int size) {
    return java.util.Arrays.copyOfRange(all, e * size, (e + 1) * size);
  }

  @Test
  void granularExpertsWithEqualWeightsOnePerChunkReproduceTheDenseMlp() {
    int g = 4;
    int experts = 8;
    int w = FF / g;
    Map<String, RawTensor[]> out = run(UpcycleOptions.defaults(experts).withGranularity(g), DType.FLOAT32);
    Function<String, RawTensor[]> t = n -> out.get("encoder/layers_1/mlp/" + n + "/kernel");
    assertArrayEquals(new long[] {experts, D, w}, t.apply("wi_0")[1].info().shape());
    assertArrayEquals(new long[] {experts, w, D}, t.apply("wo")[1].info().shape());
    double[] wi0 = all(t.apply("wi_0")[0]);
    double[] wi1 = all(t.apply("wi_1")[0]);
    double[] wo = all(t.apply("wo")[0]);
    double[] ewi0 = all(t.apply("wi_0")[1]);
    double[] ewi1 = all(t.apply("wi_1")[1]);
    double[] ewo = all(t.apply("wo")[1]);
    SplittableRandom rnd = new SplittableRandom(9);
    double[] x = new double[D];
    for (int i = 0; i < D; i++) {
      x[i] = Randoms.gaussian(rnd);
    }
    double[] dense = gatedMlp(x, wi0, wi1, wo, FF);
    // Two choices of one expert per chunk: experts 0..3, and experts 4..7 (chunk e mod 4).
    for (int offset : new int[] {0, g}) {
      double[] y = new double[D];
      for (int c = 0; c < g; c++) {
        int e = offset + c;
        double[] ye = gatedMlp(x, expert(ewi0, e, D * w), expert(ewi1, e, D * w), expert(ewo, e, w * D), w);
        for (int k = 0; k < D; k++) {
          y[k] += ye[k] / g; // renormalised combine weight 1/G
        }
      }
      for (int k = 0; k < D; k++) {
        assertEquals(dense[k], y[k], 1e-5 * Math.max(1, Math.abs(dense[k])), "output " + k);
      }
    }
  }

  @Test
  void freshRouterFollowsTheInitializerAndTheSeed() {
    List<TensorInfo> src = mlp(DType.BFLOAT16);
    UpcycleOptions o = UpcycleOptions.defaults(64).withRouterInit(Initializer.normal(0.5)).withSeed(3);
    Rule router = PlanBuilder.build(src, o).rules(Rule.Kind.FRESH_ROUTER).get(0);
    assertEquals(DType.FLOAT32, router.target().dtype(), "routers are float32 whatever the model dtype");
    assertArrayEquals(new long[] {D, 64}, router.target().shape());
    double[] v = all(ExpertTensors.fresh(router, o));
    double sq = 0;
    double sum = 0;
    for (double x : v) {
      sq += x * x;
      sum += x;
    }
    assertEquals(0.5, Math.sqrt(sq / v.length), 0.03);
    assertEquals(0, sum / v.length, 0.05);
    assertArrayEquals(v, all(ExpertTensors.fresh(router, o)), 0.0);
    double[] other = all(ExpertTensors.fresh(router, o.withSeed(4)));
    assertNotEquals(v[0], other[0]);
    assertTrue(java.util.Arrays.stream(all(ExpertTensors.fresh(router, o.withRouterInit(Initializer.zeros()))))
        .allMatch(x -> x == 0));
  }

  @Test
  void bfloat16AndHalfCodecsRoundTripAndRoundToNearestEven() {
    SplittableRandom rnd = new SplittableRandom(1);
    for (int i = 0; i < 10000; i++) {
      short b = (short) rnd.nextInt(1 << 16);
      float f = FloatCodec.bfloat16ToFloat(b);
      if (!Float.isNaN(f)) {
        assertEquals(b, FloatCodec.floatToBfloat16(f));
      }
      short h = (short) rnd.nextInt(1 << 16);
      float hf = FloatCodec.halfToFloat(h);
      if (!Float.isNaN(hf)) {
        assertEquals(h, FloatCodec.floatToHalf(hf), "half bits " + Integer.toHexString(h & 0xffff));
      }
    }
    // 1 + 2^-8 lies halfway between bfloat16 1.0 and 1 + 2^-7: ties go to the even one (1.0).
    assertEquals(FloatCodec.floatToBfloat16(1.0f), FloatCodec.floatToBfloat16(1.0f + 0x1p-8f));
    assertEquals(1.0f + 0x1p-7f, FloatCodec.bfloat16ToFloat(FloatCodec.floatToBfloat16(1.0f + 0x1.8p-8f)));
    assertEquals(1.5f, FloatCodec.halfToFloat(FloatCodec.floatToHalf(1.5f)));
    assertEquals(65504f, FloatCodec.halfToFloat(FloatCodec.floatToHalf(65504f)));
    assertEquals(Float.POSITIVE_INFINITY, FloatCodec.halfToFloat(FloatCodec.floatToHalf(1e6f)));
  }

  @Test
  void droppedUnitsAreDistinctSortedAndSeeded() {
    int[] a = Randoms.droppedUnits(1, "m", 0, 100, 0.25);
    assertEquals(25, a.length);
    assertEquals(25, java.util.Arrays.stream(a).boxed().collect(Collectors.toSet()).size());
    assertArrayEquals(a, Randoms.droppedUnits(1, "m", 0, 100, 0.25));
    assertTrue(!java.util.Arrays.equals(a, Randoms.droppedUnits(1, "m", 1, 100, 0.25)));
    assertEquals(0, Randoms.droppedUnits(1, "m", 0, 100, 0).length);
    assertEquals(100, Randoms.droppedUnits(1, "m", 0, 100, 1).length);
  }
}
