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
}
