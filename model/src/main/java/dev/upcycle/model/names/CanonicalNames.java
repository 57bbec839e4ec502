package dev.upcycle.model.names;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.List;

/**
 * Canonical (T5X / Flaxformer) variable names, DESIGN.md §3: the one home of the names that more
 * than one module composes or recognises.
 * <ul>
 *   <li>the dense MLP of a layer: {@code <layer>/mlp/{wi_0,wi_1,wi,wo}/{kernel,bias}};
 *   <li>an MoE layer replaces it by stacked experts {@code <layer>/mlp/expert/<weight>/kernel}
 *       [E, d, d_ff] / [E, d_ff, d] and a router {@code <layer>/mlp/router/router_weights/w/kernel}
 *       [d, E];
 *   <li>optimizer state: {@code state/step} and per-parameter slots
 *       {@code state/param_states/<param>/<slot>}, slots {@link #M}, {@link #V}, {@link #V_ROW},
 *       {@link #V_COL}. TF tensor bundles use the same strings.
 * </ul>
 * Paths are joined with {@code /}; a path argument must be non-empty and must not end with {@code /}.
 */
public final class CanonicalNames {

  /** Prefix of every optimizer-state name: {@code state/}. */
  public static final String STATE = "state/";
  /** The step counter (a scalar): {@code state/step}. */
  public static final String STEP = STATE + "step";
  /** The folder of per-parameter slots: {@code state/param_states}. */
  public static final String PARAM_STATES = STATE + "param_states";

  /** First moment (Adam, Adafactor with momentum): {@code m}. */
  public static final String M = "m";
  /** Unfactored second moment: {@code v}. */
  public static final String V = "v";
  /** Factored second moment of a matrix, one value per row: {@code v_row}. */
  public static final String V_ROW = "v_row";
  /** Factored second moment of a matrix, one value per column: {@code v_col}. */
  public static final String V_COL = "v_col";
  /** The slot names of the optimizers, in T5X's order. */
  public static final List<String> SLOTS = List.of(M, V, V_ROW, V_COL);

  /** A layer's MLP block, dense or MoE: {@code mlp}. */
  public static final String MLP = "mlp";
  /** The stacked experts under an MoE MLP: {@code expert}. */
  public static final String EXPERT = "expert";
  /** The router kernel under an MoE MLP: {@code router/router_weights/w/kernel}. */
  public static final String ROUTER_KERNEL = "router/router_weights/w/kernel";

  private static final String EXPERT_PART = "/" + MLP + "/" + EXPERT + "/";
  private static final String ROUTER_PART = "/" + MLP + "/router/";

  private CanonicalNames() {}

  /** True for optimizer state (step counter and slots): names under {@code state/}. */
  public static boolean isState(String name) {
    return checkNotNull(name, "name").startsWith(STATE);
  }

  /** True for a per-parameter slot: names under {@code state/param_states/}. */
  public static boolean isSlot(String name) {
    return checkNotNull(name, "name").startsWith(PARAM_STATES + "/");
  }

  /** A parameter's slot: {@code state/param_states/<param>/<slot>}. */
  public static String slot(String param, String slotName) {
    return PARAM_STATES + "/" + path(param, "param") + "/" + path(slotName, "slot name");
  }

  /** The slots of a parameter share this prefix: {@code state/param_states/<param>/}. */
  public static String slotPrefix(String param) {
    return PARAM_STATES + "/" + path(param, "param") + "/";
  }

  /** A layer's MLP: {@code <layer>/mlp}, e.g. {@code encoder/layers_1/mlp}. */
  public static String mlp(String layerPath) {
    return path(layerPath, "layer path") + "/" + MLP;
  }

  /** The stacked experts of an MoE MLP: {@code <mlp>/expert}. */
  public static String experts(String mlpPath) {
    return path(mlpPath, "MLP path") + "/" + EXPERT;
  }

  /** An expert weight's kernel [E, ...]: {@code <layer>/mlp/expert/<weight>/kernel}, e.g. weight {@code wi_0}. */
  public static String expertKernel(String layerPath, String weight) {
    return experts(mlp(layerPath)) + "/" + path(weight, "weight") + "/kernel";
  }

  /** The router kernel [d, E] of a layer: {@code <layer>/mlp/router/router_weights/w/kernel}. */
  public static String routerKernel(String layerPath) {
    return router(mlp(layerPath));
  }

  /** The router kernel [d, E] of an MLP path: {@code <mlp>/router/router_weights/w/kernel}. */
  public static String router(String mlpPath) {
    return path(mlpPath, "MLP path") + "/" + ROUTER_KERNEL;
  }

  /**
   * The MoE name of a dense MLP parameter ({@code <layer>/mlp/<weight>/<leaf>} →
   * {@code <layer>/mlp/expert/<weight>/<leaf>}), given its MLP path and the part after it.
   */
  public static String expertOf(String mlpPath, String weightAndLeaf) {
    return experts(mlpPath) + "/" + path(weightAndLeaf, "weight");
  }

  /** True for a router weight: names with {@code /mlp/router/}. */
  public static boolean isRouter(String name) {
    return checkNotNull(name, "name").contains(ROUTER_PART);
  }

  /** True for a stacked expert weight: names with {@code /mlp/expert/}. */
  public static boolean isExpert(String name) {
    return checkNotNull(name, "name").contains(EXPERT_PART);
  }

  /** The dense MLP parameter an expert weight tiles ({@code .../mlp/expert/X} → {@code .../mlp/X}); others unchanged. */
  public static String denseOf(String name) {
    return checkNotNull(name, "name").replace(EXPERT_PART, "/" + MLP + "/");
  }

  private static String path(String p, String what) {
    checkNotNull(p, what);
    checkArgument(!p.isEmpty() && !p.endsWith("/"), "%s '%s': expected a non-empty path without a trailing '/'", what, p);
    return p;
  }
}
