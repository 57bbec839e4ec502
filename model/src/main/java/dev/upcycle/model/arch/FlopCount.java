package dev.upcycle.model.arch;

import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.moe.MoeLayer;

/**
 * Matmul FLOPs (2 per multiply-add) of what the graph computes, counting projections, attention
 * scores and values, MLPs, expert MLPs on the rows they really multiply (capacity routing: every
 * slot, empty ones included; dropless routing: the N·K real assignments; top-K capacity routing in
 * a served graph, which skips empty slots: at most N·K), routers and logits.
 * Norms, softmax, gathers and elementwise ops are left out (a few percent).
 *
 * <p>Backward of a matmul {@code y = a·w}: the weight gradient always costs one forward, and the
 * input gradient one more only when {@code a} needs a gradient ({@link #trainMatmul}). Inside a
 * model every activation needs one (the embeddings are trained), except the pixels that ViT's patch
 * projection reads, so {@link #trainStep} is 3× forward less that one input gradient. A lone block
 * whose input is a constant or an untrained variable computes less ({@link Backward#WEIGHTS_ONLY}):
 * counting it as 3× forward overstates the work (for a gated MLP 9 counted for 7 done).
 */
public final class FlopCount {

  private FlopCount() {}

  /** Forward FLOPs of T5 for a batch of {@code batch} with the given input and target lengths. */
  public static double forward(ModelSpec spec, int batch, int inputLength, int targetLength) {
    return forward(spec, batch, inputLength, targetLength, false);
  }

  private static double forward(ModelSpec spec, int batch, int inputLength, int targetLength, boolean filledOnly) {
    ArchitectureConfig a = spec.arch();
    if (a instanceof T5Config c) {
      return t5Encoder(spec, c, batch, inputLength, filledOnly)
          + t5DecoderAndLogits(spec, c, batch, inputLength, targetLength, filledOnly);
    }
    if (a instanceof LmConfig c) {
      double dec = stack(spec, c.dModel(), c.dFf(), c.innerDim(), c.layers(), batch, inputLength, inputLength, 0,
          true, true, spec.encoderLayout().sparseLayers(c.layers()).size(), filledOnly);
      return dec + 2.0 * batch * inputLength * c.dModel() * c.vocabSize();
    }
    VitConfig c = (VitConfig) a;
    int len = c.sequenceLength();
    double patches = patchProjection(c, batch);
    double enc = stack(spec, c.dModel(), c.dFf(), c.dModel(), c.layers(), batch, len, len, 0, false, false,
        spec.encoderLayout().sparseLayers(c.layers()).size(), filledOnly);
    return patches + enc + 2.0 * batch * c.dModel() * c.numClasses();
  }

  /**
   * Forward FLOPs of one run of the exported {@code serving_default} signature at its batch: for
   * T5 the greedy decode (savedmodels' T5Serving) runs the encoder once and then, for each of the
   * {@code targetLength - 1} output positions, the whole decoder and the logits on [batch,
   * targetLength] (no key/value cache); for ViT and the LM it is {@link #forward}. Served graphs
   * skip the empty slots of top-K capacity routing, so their experts count at most N·K rows
   * ({@link #expertRows(long, MoeConfig, RouterConfig, boolean)}).
   */
  public static double serving(ModelSpec spec, int batch, int inputLength, int targetLength) {
    if (spec.arch() instanceof T5Config c) {
      return t5Encoder(spec, c, batch, inputLength, true)
          + (targetLength - 1) * t5DecoderAndLogits(spec, c, batch, inputLength, targetLength, true);
    }
    return forward(spec, batch, inputLength, targetLength, true);
  }

  private static double t5Encoder(ModelSpec spec, T5Config c, int batch, int inputLength, boolean filledOnly) {
    return stack(spec, c.dModel(), c.dFf(), c.innerDim(), c.encoderLayers(), batch, inputLength, inputLength, 0, false,
        true, spec.encoderLayout().sparseLayers(c.encoderLayers()).size(), filledOnly);
  }

  private static double t5DecoderAndLogits(ModelSpec spec, T5Config c, int batch, int inputLength, int targetLength,
      boolean filledOnly) {
    double dec = stack(spec, c.dModel(), c.dFf(), c.innerDim(), c.decoderLayers(), batch, targetLength, targetLength,
        inputLength, true, true, spec.decoderLayout().sparseLayers(c.decoderLayers()).size(), filledOnly);
    return dec + 2.0 * batch * targetLength * c.dModel() * c.vocabSize();
  }

  /** Which gradients the backward pass of a block computes besides the weight gradients. */
  public enum Backward {
    /** The block's input is not trained and is no function of anything trained: no input gradient. */
    WEIGHTS_ONLY,
    /** The block's input is an activation whose gradient is needed, as inside a model. */
    WEIGHTS_AND_INPUT;

    /** How reports spell it: {@code weights_only} / {@code weights_and_input}. */
    public String jsonName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Training-step FLOPs: forward, weight gradients and activation gradients: 3 × forward, less the
   * input gradient of ViT's patch projection (its input is the pixels).
   */
  public static double trainStep(ModelSpec spec, int batch, int inputLength, int targetLength) {
    double step = 3 * forward(spec, batch, inputLength, targetLength);
    if (spec.arch() instanceof VitConfig c) {
      step -= patchProjection(c, batch);
    }
    return step;
  }

  /**
   * Forward + backward FLOPs of a matmul whose forward costs {@code forward}: the weight gradient
   * always, the input gradient only when {@code inputGradient}.
   */
  public static double trainMatmul(double forward, boolean inputGradient) {
    return forward * (inputGradient ? 3 : 2);
  }

  /** FLOPs of one dense MLP on {@code tokens} tokens (gated: three matrices; biased: two). */
  public static double denseMlp(long tokens, int d, int dFf, boolean gated) {
    return 2.0 * tokens * d * dFf * (gated ? 3 : 2);
  }

  /**
   * Training FLOPs of one dense MLP block: its input matmuls (wi, or wi_0 and wi_1) need an input
   * gradient only with {@link Backward#WEIGHTS_AND_INPUT}; wo's input (the hidden layer) always does.
   */
  public static double denseMlpStep(long tokens, int d, int dFf, boolean gated, Backward backward) {
    double in = 2.0 * tokens * d * dFf * (gated ? 2 : 1);
    double out = 2.0 * tokens * dFf * d;
    return trainMatmul(in, backward == Backward.WEIGHTS_AND_INPUT) + trainMatmul(out, true);
  }

  /** FLOPs of one MoE layer on {@code tokens} tokens: router + experts on {@link #expertRows} rows. */
  public static double moeMlp(long tokens, int d, int dFf, boolean gated, MoeConfig moe, RouterConfig router) {
    return moeMlp(tokens, d, dFf, gated, moe, router, false);
  }

  private static double moeMlp(long tokens, int d, int dFf, boolean gated, MoeConfig moe, RouterConfig router,
      boolean filledOnly) {
    return router(tokens, d, moe) + denseMlp(expertRows(tokens, moe, router, filledOnly), d, dFf, gated);
  }

  /**
   * Training FLOPs of one MoE block: the router and the experts' input matmuls take an input
   * gradient only with {@link Backward#WEIGHTS_AND_INPUT}; the experts' wo always does.
   */
  public static double moeMlpStep(long tokens, int d, int dFf, boolean gated, MoeConfig moe, RouterConfig router,
      Backward backward) {
    boolean input = backward == Backward.WEIGHTS_AND_INPUT;
    return trainMatmul(router(tokens, d, moe), input)
        + denseMlpStep(expertRows(tokens, moe, router), d, dFf, gated, backward);
  }

  /**
   * Rows the experts multiply for {@code tokens} tokens, all experts together: with capacity
   * routing every slot, filled or not (groups · capacity · E); with dropless top-K routing every
   * (token, expert) assignment and nothing else (tokens · K).
   */
  public static long expertRows(long tokens, MoeConfig moe, RouterConfig router) {
    return expertRows(tokens, moe, router, false);
  }

  /**
   * {@link #expertRows(long, MoeConfig, RouterConfig)} in a graph whose MoE layers multiply only
   * filled slots when {@code filledSlotsOnly} (BuildContext#withFilledSlotsOnly, the served
   * graphs): top-K capacity routing then counts at most tokens · K rows, the number when no choice
   * is dropped (the real count, known at run time, can only be lower); expert choice fills every
   * slot, so its count is unchanged.
   */
  public static long expertRows(long tokens, MoeConfig moe, RouterConfig router, boolean filledSlotsOnly) {
    if (router.dropless()) {
      return tokens * router.k();
    }
    int s = MoeLayer.groupSize((int) tokens, moe.groupSize());
    long groups = tokens / s;
    long slots = groups * (long) router.capacity(s, moe.numExperts()) * moe.numExperts();
    return filledSlotsOnly && router.type() == RouterType.TOP_K ? Math.min(slots, tokens * router.k()) : slots;
  }

  private static double router(long tokens, int d, MoeConfig moe) {
    return 2.0 * tokens * d * moe.numExperts();
  }

  private static double patchProjection(VitConfig c, int batch) {
    return 2.0 * batch * c.numPatches() * c.patchSize() * c.patchSize() * c.channels() * c.dModel();
  }

  private static double stack(ModelSpec spec, int d, int dFf, int inner, int layers, int batch, int len, int keyLen,
      int crossLen, boolean causal, boolean gated, int sparseLayers, boolean filledOnly) {
    long tokens = (long) batch * len;
    double attention = 2.0 * tokens * d * inner * 4 + 2.0 * 2 * tokens * keyLen * inner;
    if (crossLen > 0) {
      attention += 2.0 * tokens * d * inner * 2 + 2.0 * (long) batch * crossLen * d * inner * 2
          + 2.0 * 2 * tokens * crossLen * inner;
    }
    double dense = denseMlp(tokens, d, dFf, gated);
    double moe = sparseLayers == 0 ? 0
        : moeMlp(tokens, d, dFf, gated, spec.moe().orElseThrow(), spec.moe().get().router(causal), filledOnly);
    return layers * attention + (layers - sparseLayers) * dense + sparseLayers * moe;
  }
}
