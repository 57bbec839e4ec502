package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.graph.Initializer;
import dev.upcycle.plan.GranularScaling.Routing;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Granular upcycling's two weight-scaling rules and the virtual-groups router, in plain Java: the
 * converted tensors against the rules computed by hand, and the function the MoE computes at init
 * (a loop-by-loop MoE forward over the converted tensors) against the dense MLP.
 *
 * <p>What Megatron-Core claims (upcycling_utils.py, and its test_upcycling.py, which asserts that the
 * upcycled model's logits equal the dense model's within rtol = atol = 0.1 in bfloat16, for top-2
 * top-K-then-softmax routing, G = 1 and 2): at init the MoE reproduces the dense MLP. The algebra
 * is exact when the activation is positively homogeneous (ReLU: act(a·z) = a·act(z)) and a token's
 * experts are whole virtual groups with weights summing to 1 (top-K-then-softmax = our
 * renormalised combine weights, K a multiple of G), or, for softmax before top-K, when the router
 * is uniform (s = E·G/K undoes the 1/E of each probability). With our GELU it is not: the MoE then
 * computes the dense MLP with GELU(a·z)/a in place of GELU (a the weight factor).
 */
class GranularScalingTest {

  private static final int D = 8;
  private static final int FF = 16;
  private static final int E = 8;
  private static final String MLP = "encoder/layers_1/mlp";
  private static final String OTHER_LAYER = "encoder/layers_0/mlp/wo/kernel";
  /** Scaled weights are stored as float32: outputs agree to its rounding (a few 1e-7), not to 1e-12. */
  private static final double FLOAT32 = 2e-6;
  private static final DoubleUnaryOperator RELU = z -> Math.max(0, z);
  /** The project's GELU (tanh form, {@code Activations.geluTanh}). */
  private static final DoubleUnaryOperator GELU = z -> 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI)
      * (z + 0.044715 * z * z * z)));

  // ---------------------------------------------------------------- the dense MLP and its conversion

  /** A dense MLP: T5 v1.1 gated (wi_0, wi_1, wo kernels) or ViT (wi, wo kernels and biases). */
  private record Dense(boolean gated, Map<String, TensorInfo> infos, Map<String, double[]> values) {

    static Dense random(boolean gated, long seed) {
      SplittableRandom rnd = new SplittableRandom(seed);
      Map<String, TensorInfo> infos = new LinkedHashMap<>();
      Map<String, double[]> values = new LinkedHashMap<>();
      for (String w : gated ? List.of("wi_0", "wi_1") : List.of("wi")) {
        put(infos, values, w + "/kernel", new long[] {D, FF}, 1.0 / Math.sqrt(D), rnd);
      }
      put(infos, values, "wo/kernel", new long[] {FF, D}, 1.0 / Math.sqrt(FF), rnd);
      if (!gated) {
        // non-zero biases, as upstream's test sets them
        put(infos, values, "wi/bias", new long[] {FF}, 0.3, rnd);
        put(infos, values, "wo/bias", new long[] {D}, 0.3, rnd);
      }
      // a second layer, so that every_other makes layers_1 sparse and keeps layers_0 dense
      infos.put(OTHER_LAYER, new TensorInfo(OTHER_LAYER, DType.FLOAT32, new long[] {FF, D}));
      values.put(OTHER_LAYER, new double[FF * D]);
      return new Dense(gated, infos, values);
    }

    private static void put(Map<String, TensorInfo> infos, Map<String, double[]> values, String leaf, long[] shape,
        double std, SplittableRandom rnd) {
      String name = MLP + "/" + leaf;
      int n = 1;
      for (long d : shape) {
        n *= (int) d;
      }
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        v[i] = std * Randoms.gaussian(rnd);
      }
      // float32 values, so the converted float32 tensors compare exactly
      for (int i = 0; i < n; i++) {
        v[i] = (float) v[i];
      }
      infos.put(leaf, new TensorInfo(name, DType.FLOAT32, shape));
      values.put(leaf, v);
    }

    double[] get(String leaf) {
      return values.get(leaf);
    }

    /** y = wo·act(x·wi_0) ⊙ (x·wi_1), or wo·act(x·wi + b) + b. */
    double[] apply(double[] x, DoubleUnaryOperator act) {
      return mlp(x, gated, get(gated ? "wi_0/kernel" : "wi/kernel"), gated ? get("wi_1/kernel") : null,
          gated ? null : get("wi/bias"), get("wo/kernel"), gated ? null : get("wo/bias"), FF, act);
    }
  }

  /** The plan's targets: expert tensors by dense leaf ({@code wi_0/kernel}) and the router. */
  private static Map<String, double[]> convert(Dense dense, UpcycleOptions options) {
    UpcyclePlan plan = PlanBuilder.build(new ArrayList<>(dense.infos().values()), options);
    PlanCheck.check(plan).orThrow();
    Map<String, double[]> out = new LinkedHashMap<>();
    for (Rule r : plan.rules()) {
      String leaf = r.source() == null ? null : r.source().name().substring(r.source().name().lastIndexOf("/mlp/") + 5);
      if ((r.kind() == Rule.Kind.TILE || r.kind() == Rule.Kind.GRANULAR) && r.mlp().equals(MLP)) {
        out.put(leaf, all(ExpertTensors.expand(r, raw(r.source(), dense.get(leaf)), options)));
      } else if (r.kind() == Rule.Kind.FRESH_ROUTER) {
        out.put("router", all(ExpertTensors.fresh(r, options)));
      }
    }
    return out;
  }

  private static RawTensor raw(TensorInfo info, double[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    FloatCodec.encode(v, DType.FLOAT32, b, 0);
    return new RawTensor(info, b);
  }

  private static double[] all(RawTensor t) {
    return FloatCodec.decode(t.data(), t.info().dtype(), 0, (int) t.info().numElements());
  }

  private static UpcycleOptions options(int g, GranularScaling scaling) {
    return UpcycleOptions.defaults(E).withGranularity(g).withGranularScaling(scaling).withSeed(11);
  }

  // ---------------------------------------------------------------- the tensors, by hand

  static Stream<Arguments> rules() {
    List<Arguments> out = new ArrayList<>();
    for (boolean gated : new boolean[] {true, false}) {
      for (int g : new int[] {1, 2, 4}) { // upstream scales at G = 1 too
        out.add(Arguments.of(gated, g, GranularScaling.WO_TIMES_G));
        out.add(Arguments.of(gated, g, GranularScaling.megatron(Routing.parse("top_k:2"), Routing.parse("top_k:2"))));
        out.add(Arguments.of(gated, g, GranularScaling.megatron(Routing.parse("top_k:" + g + ":renormalize"),
            Routing.parse("top_k:2"))));
        out.add(Arguments.of(gated, g, GranularScaling.megatron(Routing.parse("expert_choice:2"),
            Routing.parse("top_k:1"))));
      }
    }
    return out.stream();
  }

  /**
   * Expert e is chunk e mod G of the d_ff axis times the factor, written out per rule: wo-times-g:
   * wo kernel × G; megatron: s = G (renormalised) or (E/G)·G²/K (upstream's expansion_rate · G² /
   * topk; K = C for Expert Choice), gated weights × s^(1/3), ViT's wi kernel, wi bias and wo kernel
   * × s^(1/2), wo bias × 1.
   */
  @ParameterizedTest(name = "gated {0}, G = {1}, {2}")
  @MethodSource("rules")
  void convertedTensorsFollowTheRuleComputedByHand(boolean gated, int g, GranularScaling scaling) {
    Dense dense = Dense.random(gated, 3);
    Map<String, double[]> out = convert(dense, options(g, scaling));
    int w = FF / g;
    for (String leaf : dense.infos().keySet()) {
      if (leaf.equals(OTHER_LAYER)) {
        continue;
      }
      double factor;
      if (scaling.method() == GranularScaling.Method.WO_TIMES_G) {
        factor = leaf.equals("wo/kernel") ? g : 1;
      } else if (leaf.equals("wo/bias")) {
        factor = 1;
      } else {
        Routing r = scaling.encoderRouting().orElseThrow();
        double s = r.renormalized() ? g : (double) (E / g) * g * g / r.perToken();
        factor = gated ? Math.pow(s, 1.0 / 3) : Math.pow(s, 1.0 / 2);
      }
      double[] src = dense.get(leaf);
      double[] got = out.get(leaf);
      int per = got.length / E;
      for (int e = 0; e < E; e++) {
        int c = e % g;
        for (int i = 0; i < per; i++) {
          double want = switch (leaf) {
            case "wi_0/kernel", "wi_1/kernel", "wi/kernel" -> src[(i / w) * FF + c * w + i % w]; // [D, w] of [D, FF]
            case "wo/kernel" -> src[(c * w + i / D) * D + i % D]; // [w, D] of [FF, D]
            case "wi/bias" -> src[c * w + i];
            default -> src[i]; // wo bias: copied
          } * factor;
          assertEquals((float) want, got[e * per + i], 2e-7 * Math.abs(want),
              leaf + " expert " + e + " element " + i + " (factor " + factor + ")");
        }
      }
    }
  }

  @Test
  void activationScaleIsUpstreamsFormulaInOurTerms() {
    for (int g : new int[] {1, 2, 4}) {
      for (int k : new int[] {1, 2, 4}) {
        // upstream: expansion_rate · G² / topk with expansion_rate = E / G
        assertEquals((double) (E / g) * g * g / k, GranularScaling.activationScale(new Routing(RouterType.TOP_K, k,
            false), E, g), 1e-12);
        assertEquals(g, GranularScaling.activationScale(new Routing(RouterType.TOP_K, k, true), E, g), 0);
      }
      assertEquals((double) E * g / 2, GranularScaling.activationScale(Routing.of(RouterConfig.expertChoice(2)), E, g),
          1e-12, "expert choice without renormalisation: K = C");
      assertEquals(g, GranularScaling.activationScale(Routing.of(RouterConfig.expertChoice(2).withRenormalize(true)),
          E, g), 0);
    }
  }

  // ---------------------------------------------------------------- the router

  @Test
  void virtualGroupsRouterRepeatsEachOfTheFirstEOverGColumnsGTimes() {
    Dense dense = Dense.random(true, 5);
    for (int g : new int[] {1, 2, 4}) {
      UpcycleOptions plain = options(g, GranularScaling.WO_TIMES_G).withRouterInit(Initializer.normal(0.5));
      double[] drawn = convert(dense, plain).get("router"); // [D, E]
      double[] grouped = convert(dense, plain.withRouterVirtualGroups(true)).get("router");
      for (int i = 0; i < D; i++) {
        for (int j = 0; j < E; j++) {
          assertEquals(drawn[i * E + j / g], grouped[i * E + j], 0, "G " + g + ": router[" + i + "][" + j
              + "] is column " + j / g + " of the draw");
        }
        if (g > 1) {
          assertTrue(grouped[i * E] != grouped[i * E + g], "groups differ from one another");
        }
      }
    }
  }

  @Test
  void routerInitParsesVirtualGroupsAndItsBaseInitializer() {
    assertEquals(new UpcycleOptions.RouterInit(UpcycleOptions.DEFAULT_ROUTER_INIT, true),
        UpcycleOptions.RouterInit.parse("virtual-groups"));
    assertEquals(new UpcycleOptions.RouterInit(Initializer.zeros(), true),
        UpcycleOptions.RouterInit.parse("virtual-groups:zeros"));
    assertEquals(new UpcycleOptions.RouterInit(Initializer.normal(0.1), false),
        UpcycleOptions.RouterInit.parse("normal:0.1"));
    UpcycleOptions.RouterInit vg = UpcycleOptions.RouterInit.parse("virtual-groups:normal:0.1");
    assertEquals(vg, UpcycleOptions.RouterInit.parse(vg.describe()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> UpcycleOptions.RouterInit.parse("virtual:1"));
    assertTrue(e.getMessage().contains("virtual-groups") && e.getMessage().contains("normal:STD"), e.getMessage());
  }

  @Test
  void routingParsesAndRefusesWhatItCannotUse() {
    assertEquals(new Routing(RouterType.EXPERT_CHOICE, 2, true), Routing.parse("expert_choice:2:renormalize"));
    assertEquals(new Routing(RouterType.TOP_K, 2, false), Routing.parse("top_k:2"));
    assertEquals(Routing.parse("ec:1.5"), Routing.parse(Routing.parse("ec:1.5").describe()));
    for (String bad : new String[] {"top_k", "top_k:x", "top_k:1.5", "nearest:2", "top_k:2:sometimes", "top_k:0"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Routing.parse(bad), bad);
      assertTrue(e.getMessage().contains(bad) && e.getMessage().contains("expert_choice:C"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class,
        () -> GranularScaling.megatron(Routing.parse("top_k:2"), Routing.parse("expert_choice:2")));
  }

  @Test
  void megatronWithoutARouterIsAPlanProblemAndRefusesCopiedSlots() {
    Dense dense = Dense.random(true, 1);
    UpcyclePlan plan = PlanBuilder.build(new ArrayList<>(dense.infos().values()), options(2, GranularScaling.megatron()));
    PlanReport report = PlanCheck.check(plan);
    assertTrue(report.problems().stream().anyMatch(p -> p.contains("encoder stack needs its router")),
        report.problems().toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UpcycleOptions.defaults(E)
        .withOptimizerState(UpcycleOptions.OptimizerState.COPY).withGranularScaling(GranularScaling.megatron()));
    assertTrue(e.getMessage().contains("RESET"), e.getMessage());
  }

  @Test
  void optionsRecordTheRuleTheRoutersAndVirtualGroups() {
    Map<String, Object> m = options(2, GranularScaling.megatron(RouterConfig.expertChoice(2), RouterConfig.topK(2, 1)))
        .withRouterVirtualGroups(true).asMap();
    assertEquals("megatron", m.get("granular_scaling"));
    assertEquals("expert_choice:2.0", m.get("granular_scaling_encoder_router"));
    assertEquals("top_k:2", m.get("granular_scaling_decoder_router"));
    assertEquals(true, m.get("router_virtual_groups"));
    Map<String, Object> d = UpcycleOptions.defaults(E).asMap();
    assertEquals("wo-times-g", d.get("granular_scaling"));
    assertEquals(false, d.get("router_virtual_groups"));
  }

  // ---------------------------------------------------------------- the function at init

  /** How tokens meet experts in the reference forward. */
  private record Router(RouterType type, double perToken, boolean renormalize) {}

  /**
   * The MoE block on tokens x [S][D] with the converted experts: router logits x·R (R [D, E]),
   * softmax over experts; top-K (a token's K most probable experts, ties to the lower index) or
   * Expert Choice (an expert's round(C·S/E) most probable tokens, ties to the lower index); combine
   * weight = probability, optionally divided by the token's sum; no capacity limit for top-K.
   */
  private static double[][] moe(double[][] x, Map<String, double[]> t, boolean gated, int g, Router router,
      DoubleUnaryOperator act) {
    int s = x.length;
    int w = FF / g;
    double[] r = t.get("router");
    double[][] p = new double[s][E];
    for (int n = 0; n < s; n++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int e = 0; e < E; e++) {
        for (int i = 0; i < D; i++) {
          p[n][e] += x[n][i] * r[i * E + e];
        }
        max = Math.max(max, p[n][e]);
      }
      double z = 0;
      for (int e = 0; e < E; e++) {
        p[n][e] = Math.exp(p[n][e] - max);
        z += p[n][e];
      }
      for (int e = 0; e < E; e++) {
        p[n][e] /= z;
      }
    }
    boolean[][] chosen = new boolean[s][E];
    if (router.type() == RouterType.TOP_K) {
      for (int n = 0; n < s; n++) {
        for (int k = 0; k < router.perToken(); k++) {
          int best = -1;
          for (int e = 0; e < E; e++) {
            if (!chosen[n][e] && (best < 0 || p[n][e] > p[n][best])) {
              best = e;
            }
          }
          chosen[n][best] = true;
        }
      }
    } else {
      int cap = (int) Math.rint(router.perToken() * s / E);
      for (int e = 0; e < E; e++) {
        for (int c = 0; c < cap; c++) {
          int best = -1;
          for (int n = 0; n < s; n++) {
            if (!chosen[n][e] && (best < 0 || p[n][e] > p[best][e])) {
              best = n;
            }
          }
          chosen[best][e] = true;
        }
      }
    }
    double[][] y = new double[s][D];
    for (int n = 0; n < s; n++) {
      double sum = 0;
      for (int e = 0; e < E; e++) {
        sum += chosen[n][e] ? p[n][e] : 0;
      }
      for (int e = 0; e < E; e++) {
        if (!chosen[n][e]) {
          continue;
        }
        double weight = router.renormalize() ? p[n][e] / sum : p[n][e];
        double[] ye = mlp(x[n], gated, slice(t.get(gated ? "wi_0/kernel" : "wi/kernel"), e),
            gated ? slice(t.get("wi_1/kernel"), e) : null, gated ? null : slice(t.get("wi/bias"), e),
            slice(t.get("wo/kernel"), e), gated ? null : slice(t.get("wo/bias"), e), w, act);
        for (int i = 0; i < D; i++) {
          y[n][i] += weight * ye[i];
        }
      }
    }
    return y;
  }

  private static double[] slice(double[] all, int e) {
    int per = all.length / E;
    return java.util.Arrays.copyOfRange(all, e * per, (e + 1) * per);
  }

  /** One MLP of width {@code ff} on one token: wi [D, ff], wo [ff, D]. */
  private static double[] mlp(double[] x, boolean gated, double[] wi, double[] wi1, double[] bi, double[] wo,
      double[] bo, int ff, DoubleUnaryOperator act) {
    double[] y = new double[D];
    for (int j = 0; j < ff; j++) {
      double a = 0;
      double b = 0;
      for (int i = 0; i < D; i++) {
        a += x[i] * wi[i * ff + j];
        b += gated ? x[i] * wi1[i * ff + j] : 0;
      }
      double h = gated ? act.applyAsDouble(a) * b : act.applyAsDouble(a + bi[j]);
      for (int k = 0; k < D; k++) {
        y[k] += h * wo[j * D + k];
      }
    }
    if (!gated) {
      for (int k = 0; k < D; k++) {
        y[k] += bo[k];
      }
    }
    return y;
  }

  private static double[][] tokens(int s, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[][] x = new double[s][D];
    for (double[] row : x) {
      for (int i = 0; i < D; i++) {
        row[i] = Randoms.gaussian(rnd);
      }
    }
    return x;
  }

  /** Largest |moe − dense| over tokens (taken ones only when {@code takenOnly}) and the dense scale. */
  private static double maxError(double[][] x, double[][] y, Dense dense, DoubleUnaryOperator act, boolean takenOnly) {
    double worst = 0;
    for (int n = 0; n < x.length; n++) {
      double[] want = dense.apply(x[n], act);
      boolean taken = java.util.Arrays.stream(y[n]).anyMatch(v -> v != 0);
      if (takenOnly && !taken) {
        continue;
      }
      for (int i = 0; i < D; i++) {
        worst = Math.max(worst, Math.abs(want[i] - y[n][i]) / (1 + Math.abs(want[i])));
      }
    }
    return worst;
  }

  static Stream<Arguments> shapes() {
    List<Arguments> out = new ArrayList<>();
    for (boolean gated : new boolean[] {true, false}) {
      for (int g : new int[] {2, 4}) {
        out.add(Arguments.of(gated, g));
      }
    }
    return out.stream();
  }

  /**
   * Megatron scaling + virtual groups with renormalised top-K (upstream's top-K-then-softmax, s = G),
   * K = G and 2G: with ReLU the MoE is the dense MLP to rounding for every token; the same holds for
   * renormalised Expert Choice for every token some expert took.
   */
  @ParameterizedTest(name = "gated {0}, G = {1}")
  @MethodSource("shapes")
  void megatronWithVirtualGroupsReproducesTheDenseMlpForAHomogeneousActivation(boolean gated, int g) {
    Dense dense = Dense.random(gated, 21);
    double[][] x = tokens(32, 8);
    for (int k : new int[] {g, 2 * g}) {
      Routing top = new Routing(RouterType.TOP_K, k, true);
      Map<String, double[]> t = convert(dense, options(g, GranularScaling.megatron(top, top))
          .withRouterInit(Initializer.normal(1.0)).withRouterVirtualGroups(true));
      double[][] y = moe(x, t, gated, g, new Router(RouterType.TOP_K, k, true), RELU);
      assertEquals(0, maxError(x, y, dense, RELU, false), FLOAT32, "top-" + k);
    }
    Routing ec = new Routing(RouterType.EXPERT_CHOICE, 1, true);
    Map<String, double[]> t = convert(dense, options(g, GranularScaling.megatron(ec, new Routing(RouterType.TOP_K, 1,
        true))).withRouterInit(Initializer.normal(1.0)).withRouterVirtualGroups(true));
    double[][] y = moe(x, t, gated, g, new Router(RouterType.EXPERT_CHOICE, 1, true), RELU);
    assertEquals(0, maxError(x, y, dense, RELU, true), FLOAT32, "expert choice C = 1, tokens some expert took");
    assertTrue(java.util.Arrays.stream(y).filter(row -> java.util.Arrays.stream(row).anyMatch(v -> v != 0)).count()
        >= E / g, "expert choice took tokens");
  }

  /**
   * Softmax before top-K (no renormalisation, s = E·G/K): with a uniform router (zeros, so every
   * probability is 1/E and the first K/G groups are taken whole) the gated MoE is the dense MLP; a
   * ViT MLP's wo bias, copied unscaled as upstream does, comes out times K/E.
   */
  @ParameterizedTest(name = "gated {0}, G = {1}")
  @MethodSource("shapes")
  void megatronWithSoftmaxBeforeTopKReproducesTheDenseMlpAtAUniformRouter(boolean gated, int g) {
    Dense dense = Dense.random(gated, 22);
    double[][] x = tokens(16, 9);
    int k = g;
    Routing top = new Routing(RouterType.TOP_K, k, false);
    Map<String, double[]> t = convert(dense, options(g, GranularScaling.megatron(top, top))
        .withRouterInit(Initializer.zeros()).withRouterVirtualGroups(true));
    double[][] y = moe(x, t, gated, g, new Router(RouterType.TOP_K, k, false), RELU);
    for (int n = 0; n < x.length; n++) {
      double[] want = dense.apply(x[n], RELU);
      for (int i = 0; i < D; i++) {
        double biasShift = gated ? 0 : ((double) k / E - 1) * dense.get("wo/bias")[i];
        assertEquals(want[i] + biasShift, y[n][i], FLOAT32 * (1 + Math.abs(want[i])), "token " + n + " output " + i);
      }
    }
  }

  /**
   * Without virtual groups a token's top-G experts are not one whole dense copy, so even with ReLU
   * the MoE is not the dense MLP: the virtual groups are what make Megatron's rule preserve it.
   */
  @ParameterizedTest(name = "gated {0}, G = {1}")
  @MethodSource("shapes")
  void withoutVirtualGroupsTheDenseFunctionIsLost(boolean gated, int g) {
    Dense dense = Dense.random(gated, 23);
    double[][] x = tokens(32, 10);
    Routing top = new Routing(RouterType.TOP_K, g, true);
    Map<String, double[]> t = convert(dense, options(g, GranularScaling.megatron(top, top))
        .withRouterInit(Initializer.normal(1.0)));
    double[][] y = moe(x, t, gated, g, new Router(RouterType.TOP_K, g, true), RELU);
    assertTrue(maxError(x, y, dense, RELU, false) > 1e-2, "some token's experts are not one dense copy");
  }

  /**
   * With the project's GELU the Megatron rule is not the dense MLP (GELU(a·z) ≠ a·GELU(z)): under
   * the conditions above the MoE computes exactly the dense MLP with GELU replaced by
   * z ↦ GELU(a·z)/a, a the weight factor (s^(1/3) gated, s^(1/2) otherwise, s = G). wo-times-g,
   * which scales only the linear wo, gives the dense MLP itself.
   */
  @ParameterizedTest(name = "gated {0}, G = {1}")
  @MethodSource("shapes")
  void withGeluMegatronComputesAStretchedGeluAndWoTimesGIsExact(boolean gated, int g) {
    Dense dense = Dense.random(gated, 24);
    double[][] x = tokens(32, 11);
    Router renormalised = new Router(RouterType.TOP_K, g, true);
    Routing top = new Routing(RouterType.TOP_K, g, true);
    Map<String, double[]> megatron = convert(dense, options(g, GranularScaling.megatron(top, top))
        .withRouterInit(Initializer.normal(1.0)).withRouterVirtualGroups(true));
    double[][] y = moe(x, megatron, gated, g, renormalised, GELU);
    double a = gated ? Math.cbrt(g) : Math.sqrt(g);
    DoubleUnaryOperator stretched = z -> GELU.applyAsDouble(a * z) / a;
    assertEquals(0, maxError(x, y, dense, stretched, false), FLOAT32, "megatron = dense MLP with GELU(a·z)/a");
    double fromDense = maxError(x, y, dense, GELU, false);
    assertTrue(fromDense > 1e-3, "megatron with GELU is not the dense MLP: " + fromDense);
    Map<String, double[]> woTimesG = convert(dense, options(g, GranularScaling.WO_TIMES_G)
        .withRouterInit(Initializer.normal(1.0)).withRouterVirtualGroups(true));
    assertEquals(0, maxError(x, moe(x, woTimesG, gated, g, renormalised, GELU), dense, GELU, false), 1e-12,
        "wo-times-g with GELU");
  }
}
