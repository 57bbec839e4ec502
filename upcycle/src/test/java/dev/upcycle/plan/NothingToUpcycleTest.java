package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A conversion whose layouts choose no MoE layer is refused before anything is written (issue 14
 * #5: the {@code t5x_tiny_t5} fixture converted to a checkpoint with 0 MoE layers and exit 0).
 */
class NothingToUpcycleTest {

  @TempDir Path tmp;

  @Test
  void aCheckpointWithoutMlpsIsRefused() {
    Path to = tmp.resolve("moe");
    PlanCheckException e = assertThrows(PlanCheckException.class, () -> ConvertJob.run(
        Fixtures.fixture("t5x_tiny_t5/checkpoint_1"), to, UpcycleOptions.defaults(2), Optional.empty(), false,
        false, ProgressListener.NONE));
    assertTrue(e.getMessage().contains("nothing to upcycle") && e.getMessage().contains("its dense MLPs: none")
        && e.getMessage().contains("nothing was written"), e.getMessage());
    assertTrue(Files.notExists(to));
  }

  @Test
  void aLayoutThatChoosesNoLayerNamesTheLayersAndMlps() {
    // one encoder layer: every_other chooses the odd ones, of which there are none
    List<TensorInfo> source = List.of(
        new TensorInfo("encoder/layers_0/mlp/wi_0/kernel", DType.FLOAT32, new long[] {4, 8}),
        new TensorInfo("encoder/layers_0/mlp/wi_1/kernel", DType.FLOAT32, new long[] {4, 8}),
        new TensorInfo("encoder/layers_0/mlp/wo/kernel", DType.FLOAT32, new long[] {8, 4}));
    UpcyclePlan plan = PlanBuilder.build(source, UpcycleOptions.defaults(2));
    PlanReport report = PlanCheck.check(plan);
    PlanCheckException e = assertThrows(PlanCheckException.class, report::orThrow);
    assertTrue(e.getMessage().contains("choose no MoE layer") && e.getMessage().contains("{encoder=1}")
        && e.getMessage().contains("[encoder/layers_0/mlp]"), e.getMessage());
    // the same source with a layout that picks layer 0 is fine
    UpcycleOptions last1 = UpcycleOptions.defaults(2).withLayouts(SparseLayout.lastN(1), SparseLayout.DENSE);
    PlanCheck.check(PlanBuilder.build(source, last1)).orThrow();
    // an explicit "none" layout chooses nothing either
    assertThrows(PlanCheckException.class, () -> PlanCheck.check(PlanBuilder.build(source,
        UpcycleOptions.defaults(2).withLayouts(SparseLayout.DENSE, SparseLayout.DENSE))).orThrow());
  }
}
