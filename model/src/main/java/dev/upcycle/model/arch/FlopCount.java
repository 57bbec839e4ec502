package dev.upcycle.model.arch;

import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.moe.MoeLayer;

/**
 * Matmul FLOPs of a forward pass (2 per multiply-add), counting projections, attention scores and
 * values, MLPs, expert MLPs at their capacity (the work done, including empty slots), routers and
 * logits. Norms, softmax and elementwise ops are left out (a few percent). A training step is
 * counted as 3× forward (backward = 2× forward), the usual MFU convention.
 */
public final class FlopCount {

  private FlopCount() {}

  /** Forward FLOPs of T5 for a batch of {@code batch} with the given input and target lengths. */
  public static double forward(ModelSpec spec, int batch, int inputLength, int targetLength) {
    ArchitectureConfig a = spec.arch();
    if (a instanceof T5Config c) {
      double enc = stack(spec, c.dModel(), c.dFf(), c.innerDim(), c.encoderLayers(), batch, inputLength, inputLength,
          0, false, true, spec.encoderLayout().sparseLayers(c.encoderLayers()).size());
      double dec = stack(spec, c.dModel(), c.dFf(), c.innerDim(), c.decoderLayers(), batch, targetLength, targetLength,
          inputLength, true, true, spec.decoderLayout().sparseLayers(c.decoderLayers()).size());
      double logits = 2.0 * batch * targetLength * c.dModel() * c.vocabSize();
      return enc + dec + logits;
    }
    if (a instanceof LmConfig c) {
      double dec = stack(spec, c.dModel(), c.dFf(), c.innerDim(), c.layers(), batch, inputLength, inputLength, 0,
          true, true, spec.encoderLayout().sparseLayers(c.layers()).size());
      return dec + 2.0 * batch * inputLength * c.dModel() * c.vocabSize();
    }
    VitConfig c = (VitConfig) a;
    int len = c.sequenceLength();
    double patches = 2.0 * batch * c.numPatches() * c.patchSize() * c.patchSize() * c.channels() * c.dModel();
    double enc = stack(spec, c.dModel(), c.dFf(), c.dModel(), c.layers(), batch, len, len, 0, false, false,
        spec.encoderLayout().sparseLayers(c.layers()).size());
    return patches + enc + 2.0 * batch * c.dModel() * c.numClasses();
  }

  /** Training-step FLOPs: 3 × forward. */
  public static double trainStep(ModelSpec spec, int batch, int inputLength, int targetLength) {
    return 3 * forward(spec, batch, inputLength, targetLength);
  }

  /** FLOPs of one dense MLP on {@code tokens} tokens (gated: three matrices; biased: two). */
  public static double denseMlp(long tokens, int d, int dFf, boolean gated) {
    return 2.0 * tokens * d * dFf * (gated ? 3 : 2);
  }

  /** FLOPs of one MoE layer on {@code tokens} tokens: router + experts at capacity. */
  public static double moeMlp(long tokens, int d, int dFf, boolean gated, MoeConfig moe, RouterConfig router) {
    int s = MoeLayer.groupSize((int) tokens, moe.groupSize());
    long groups = tokens / s;
    long slots = groups * (long) router.capacity(s, moe.numExperts()) * moe.numExperts();
    return 2.0 * tokens * d * moe.numExperts() + denseMlp(slots, d, dFf, gated);
  }

  private static double stack(ModelSpec spec, int d, int dFf, int inner, int layers, int batch, int len, int keyLen,
      int crossLen, boolean causal, boolean gated, int sparseLayers) {
    long tokens = (long) batch * len;
    double attention = 2.0 * tokens * d * inner * 4 + 2.0 * 2 * tokens * keyLen * inner;
    if (crossLen > 0) {
      attention += 2.0 * tokens * d * inner * 2 + 2.0 * (long) batch * crossLen * d * inner * 2
          + 2.0 * 2 * tokens * crossLen * inner;
    }
    double dense = denseMlp(tokens, d, dFf, gated);
    double moe = sparseLayers == 0 ? 0
        : moeMlp(tokens, d, dFf, gated, spec.moe().orElseThrow(), spec.moe().get().router(causal));
    return layers * attention + (layers - sparseLayers) * dense + sparseLayers * moe;
  }
}
