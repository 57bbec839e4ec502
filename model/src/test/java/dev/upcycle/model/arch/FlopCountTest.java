package dev.upcycle.model.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import org.junit.jupiter.api.Test;

/** FLOP counts against hand-expanded formulas for a one-layer LM, dense and MoE. */
class FlopCountTest {

  @Test
  void oneLayerLanguageModel() {
    LmConfig c = new LmConfig(16, 32, 2, 8, 1, 100, 8, 20, 0);
    int b = 2;
    int l = 8;
    long tokens = b * l;
    double qkvo = 2.0 * tokens * 16 * 16 * 4;
    double scores = 2.0 * 2 * tokens * l * 16;
    double mlp = 2.0 * tokens * 16 * 32 * 3;
    double logits = 2.0 * tokens * 16 * 100;
    assertEquals(qkvo + scores + mlp + logits, FlopCount.forward(ModelSpec.dense(c), b, l, l), 1e-6);
    // MoE: 4 experts, top-2, C = 1 → capacity ceil(1·2·16/4) = 8 slots per expert, 32 slots in all
    MoeConfig moe = new MoeConfig(4, RouterConfig.expertChoice(1), RouterConfig.topK(2, 1.0), 4096, 0, 0, 0);
    double router = 2.0 * tokens * 16 * 4;
    double experts = 2.0 * 32 * 16 * 32 * 3;
    assertEquals(qkvo + scores + router + experts + logits,
        FlopCount.forward(ModelSpec.sparse(c, moe, SparseLayout.layers(0), SparseLayout.DENSE), b, l, l), 1e-6);
    assertEquals(3 * FlopCount.forward(ModelSpec.dense(c), b, l, l), FlopCount.trainStep(ModelSpec.dense(c), b, l, l));
  }

  /**
   * A gated MLP block, 10 tokens, d 4, d_ff 6, by hand: forward = three matmuls of 2·10·4·6 = 480
   * FLOPs each (1440). Backward: three weight gradients (1440), wo's input gradient (480), and the
   * input gradients of wi_0 and wi_1 (960) only when the block's input needs a gradient.
   */
  @Test
  void denseBlockStepCountsInputGradientsOnlyWhenComputed() {
    assertEquals(1440, FlopCount.denseMlp(10, 4, 6, true), 1e-9);
    assertEquals(1440 + 1440 + 480, FlopCount.denseMlpStep(10, 4, 6, true, FlopCount.Backward.WEIGHTS_ONLY), 1e-9);
    assertEquals(1440 + 1440 + 480 + 960,
        FlopCount.denseMlpStep(10, 4, 6, true, FlopCount.Backward.WEIGHTS_AND_INPUT), 1e-9);
    // biased (two matrices): forward 960; without the input gradient 7/9 becomes 5/6 of 3× forward
    assertEquals(960 + 960 + 480, FlopCount.denseMlpStep(10, 4, 6, false, FlopCount.Backward.WEIGHTS_ONLY), 1e-9);
    assertEquals(7.0 / 9, FlopCount.denseMlpStep(10, 4, 6, true, FlopCount.Backward.WEIGHTS_ONLY)
        / (3 * FlopCount.denseMlp(10, 4, 6, true)), 1e-12, "the issue's 7/9");
  }

  /**
   * MoE block, 16 tokens, d 4, d_ff 6, E 4, one group. Top-2 C 1.25: capacity ceil(1.25·2·16/4) = 10
   * slots per expert, 40 rows; dropless top-2: 16·2 = 32 rows; Expert Choice C 2: rint(2·16/4) = 8,
   * 32 rows. Router 2·16·4·4 = 512 FLOPs; experts 2·rows·4·6·3. In a served graph (filled slots
   * only) top-2 C 1.25 counts at most 16·2 = 32 rows, top-2 C 0.5 its 16 slots (fewer than 32
   * choices fit), Expert Choice its 32 slots.
   */
  @Test
  void moeBlockCountsTheRowsTheExpertsMultiply() {
    RouterConfig top2 = RouterConfig.topK(2, 1.25);
    MoeConfig moe = new MoeConfig(4, RouterConfig.expertChoice(2.0), top2, 4096, 0, 0, 0);
    assertEquals(40, FlopCount.expertRows(16, moe, top2));
    assertEquals(32, FlopCount.expertRows(16, moe, top2.withDropless(true)));
    assertEquals(32, FlopCount.expertRows(16, moe, RouterConfig.expertChoice(2.0)));
    assertEquals(32, FlopCount.expertRows(16, moe, top2, true));
    assertEquals(16, FlopCount.expertRows(16, moe, RouterConfig.topK(2, 0.5), true));
    assertEquals(32, FlopCount.expertRows(16, moe, RouterConfig.expertChoice(2.0), true));
    double router = 2.0 * 16 * 4 * 4;
    assertEquals(router + 2.0 * 40 * 4 * 6 * 3, FlopCount.moeMlp(16, 4, 6, true, moe, top2), 1e-9);
    double in = 2.0 * 32 * 4 * 6 * 2;
    double out = 2.0 * 32 * 6 * 4;
    assertEquals(3 * router + 3 * in + 3 * out,
        FlopCount.moeMlpStep(16, 4, 6, true, moe, top2.withDropless(true), FlopCount.Backward.WEIGHTS_AND_INPUT), 1e-9);
    assertEquals(2 * router + 2 * in + 3 * out,
        FlopCount.moeMlpStep(16, 4, 6, true, moe, top2.withDropless(true), FlopCount.Backward.WEIGHTS_ONLY), 1e-9);
  }

  /** ViT's patch projection reads the pixels, which take no gradient: 3× forward less one patch matmul. */
  @Test
  void vitTrainStepLeavesOutThePixelGradient() {
    dev.upcycle.model.VitConfig c = (dev.upcycle.model.VitConfig) dev.upcycle.model.Presets.get("vit-mnist");
    ModelSpec spec = ModelSpec.dense(c);
    double patches = 2.0 * 2 * c.numPatches() * c.patchSize() * c.patchSize() * c.channels() * c.dModel();
    assertEquals(3 * FlopCount.forward(spec, 2, 0, 0) - patches, FlopCount.trainStep(spec, 2, 0, 0), 1e-6);
  }

  /**
   * The served greedy decode of a one-layer T5 (d 16, d_ff 32, 2 heads of 8, vocab 100), batch 2,
   * 6 input tokens, 4 decoder positions, by hand: the encoder once, then 3 decode steps, each the
   * whole decoder and the logits on [2, 4]. With a top-2 C 1.25 MoE (E 4) as the decoder's MLP, the
   * 8 decoder tokens have ceil(1.25·2·8/4) = 5 slots per expert: 20 rows in the training graph's
   * forward, at most 8·2 = 16 in the served graph, which skips empty slots.
   */
  @Test
  void t5ServingIsTheEncoderOnceAndTheDecoderPerOutputPosition() {
    dev.upcycle.model.T5Config c = new dev.upcycle.model.T5Config(16, 32, 2, 8, 1, 1, 100, 8, 20, 0);
    int b = 2;
    int l = 6;
    int lt = 4;
    long enc = (long) b * l;
    long dec = (long) b * lt;
    double encoder = 2.0 * enc * 16 * 16 * 4 + 2.0 * 2 * enc * l * 16 + 2.0 * enc * 16 * 32 * 3;
    double self = 2.0 * dec * 16 * 16 * 4 + 2.0 * 2 * dec * lt * 16;
    double cross = 2.0 * dec * 16 * 16 * 2 + 2.0 * enc * 16 * 16 * 2 + 2.0 * 2 * dec * l * 16;
    double decoder = self + cross + 2.0 * dec * 16 * 32 * 3 + 2.0 * dec * 16 * 100;
    ModelSpec spec = ModelSpec.dense(c);
    assertEquals(encoder + decoder, FlopCount.forward(spec, b, l, lt), 1e-6);
    assertEquals(encoder + (lt - 1) * decoder, FlopCount.serving(spec, b, l, lt), 1e-6);
    dev.upcycle.model.VitConfig vit = (dev.upcycle.model.VitConfig) dev.upcycle.model.Presets.get("vit-mnist");
    assertEquals(FlopCount.forward(ModelSpec.dense(vit), 8, 0, 0), FlopCount.serving(ModelSpec.dense(vit), 8, 0, 0));

    ModelSpec moe = ModelSpec.sparse(c, new MoeConfig(4, RouterConfig.expertChoice(2.0), RouterConfig.topK(2, 1.25),
        4096, 0, 0, 0), SparseLayout.DENSE, SparseLayout.layers(0));
    double denseMlp = 2.0 * dec * 16 * 32 * 3;
    double router = 2.0 * dec * 16 * 4;
    assertEquals(encoder + decoder - denseMlp + router + 2.0 * 20 * 16 * 32 * 3, FlopCount.forward(moe, b, l, lt), 1e-6);
    assertEquals(encoder + (lt - 1) * (decoder - denseMlp + router + 2.0 * 16 * 16 * 32 * 3),
        FlopCount.serving(moe, b, l, lt), 1e-6);
  }
}
