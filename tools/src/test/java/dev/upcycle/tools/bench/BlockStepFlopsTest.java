package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.graph.Precision;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.arch.FlopCount;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The FLOPs {@code bench model} reports for a block are the matmul FLOPs of the ops its step runs
 * (read from the graph: forward, and every gradient matmul the update needs), so no block can be
 * reported above the ceiling by counting work that is not done.
 */
class BlockStepFlopsTest {

  private static final ModelBenchmark.Options SMALL = new ModelBenchmark.Options(64, 8, 16, 4, 1, 1, 1,
      new Timing(0, 1), false, 0, Precision.FLOAT32);

  @ParameterizedTest
  @ValueSource(strings = {"dense", "moe_ec_e8_c2", "moe_top2_c1.25"})
  void reportedFlopsAreTheMatmulsTheStepRuns(String variant) {
    MoeConfig moe = ModelBenchmark.blockConfig(variant, SMALL.experts());
    try (BlockStep step = new BlockStep(SMALL.tokens(), SMALL.d(), SMALL.dFf(), moe, false, Precision.FLOAT32)) {
      double inGraph = GraphFlops.matmul(step.step().op());
      assertEquals(ModelBenchmark.blockFlops(variant, SMALL), inGraph, 1e-6, variant);
      step.run();
    }
  }

  /** Without the activations' gradient the same block would do 7/9 of 3× forward (the figure). */
  @Test
  void theInputGradientIsWhatTheOldCountOverstated() {
    double weightsOnly = FlopCount.denseMlpStep(64, 8, 16, true, FlopCount.Backward.WEIGHTS_ONLY);
    double withInput = ModelBenchmark.blockFlops("dense", SMALL);
    assertEquals(7.0 / 9, weightsOnly / withInput, 1e-12);
    assertEquals(3 * FlopCount.denseMlp(64, 8, 16, true), withInput, 1e-6);
  }

  @Test
  void droplessBlocksRefuseXla() {
    MoeConfig dropless = ModelBenchmark.blockConfig("moe_top2_dropless", SMALL.experts());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new BlockStep(SMALL.tokens(), SMALL.d(), SMALL.dFf(), dropless, true, Precision.FLOAT32));
    assertTrue(e.getMessage().contains("dropless") && e.getMessage().contains("XLA"), e.getMessage());
  }
}
