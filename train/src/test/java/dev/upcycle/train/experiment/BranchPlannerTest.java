package dev.upcycle.train.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.train.config.TrainConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Equal compute: every branch's evaluation points sit at the planned extra budget within half a
 * step's FLOPs, MoE branches take fewer steps where a step costs more, and each branch's FLOP
 * count is the model's own {@link dev.upcycle.model.arch.FlopCount}.
 */
class BranchPlannerTest {

  static final ExperimentTask VIT = new ExperimentTask() {
    @Override
    public String name() {
      return "vision";
    }

    @Override
    public String description() {
      return "test";
    }

    @Override
    public String accuracyName() {
      return "top-1 accuracy";
    }

    @Override
    public List<Path> trainData() {
      return List.of(Path.of("train.tfrecord"));
    }

    @Override
    public List<Path> evalData() {
      return List.of(Path.of("test.tfrecord"));
    }

    @Override
    public Map<String, String> modelSettings() {
      return Map.of("model.preset", "vit-mnist");
    }

    @Override
    public Map<String, String> jobSettings() {
      return Map.of("batch_size", "64", "optimizer.name", "adamw");
    }

    @Override
    public List<Variant> recipe() {
      return List.of(variant("last_2", 8));
    }
  };

  static Variant variant(String layout, int experts) {
    return new Variant(layout, "EC C 2", experts, layout, "none", Map.of("moe.encoder_router.type", "expert_choice",
        "moe.encoder_router.capacity_factor", "2.0", "moe.encoder_router.renormalize", "true"),
        UpcycleOptions.OptimizerState.COPY, UnaryOperator.identity());
  }

  private static final ExperimentPlan PLAN = new ExperimentPlan(3000, List.of(0.1, 0.25, 0.5, 1.0), List.of(0L, 1L),
      List.of(0.25, 0.5, 1.0), 10);

  @Test
  void branchesAtEqualCompute() {
    Variant v = variant("last_2", 8);
    List<Branch> branches = new BranchPlanner(VIT, PLAN).plan(1, List.of(v, variant("every_other", 8)), List.of(v));
    assertEquals(List.of("dense", "continuation", "upcycled-last_2", "upcycled-every_other", "scratch-last_2"),
        branches.stream().map(Branch::name).toList());
    Branch dense = branches.get(0);
    assertEquals(List.of(750L, 1500L, 3000L), List.copyOf(dense.evalSteps().keySet()));
    assertEquals(-0.75, dense.evalSteps().get(750L), 1e-12);
    double fd = dense.stepFlops();
    for (Branch b : branches) {
      assertEquals(3000 * fd, b.denseBudgetFlops(), 1e-6 * fd);
      assertEquals("1", b.settings().get("seed"));
      assertEquals(String.valueOf(b.finalStep()), b.settings().get("train_steps"));
      if (b.kind() == BranchKind.DENSE) {
        continue;
      }
      assertEquals(PLAN.budgets(), List.copyOf(b.evalSteps().values()), b.name());
      for (Map.Entry<Long, Double> at : b.evalSteps().entrySet()) {
        // the point's extra compute is its budget within half a step of this branch
        double extra = b.extraComputeAt(at.getKey());
        assertEquals(at.getValue(), extra, 0.5 * b.stepFlops() / b.denseBudgetFlops(), b.name() + " at " + at);
      }
    }
    Branch cont = branches.get(1);
    assertEquals(List.of(3300L, 3750L, 4500L, 6000L), List.copyOf(cont.evalSteps().keySet()));
    assertEquals(3000, cont.startStep());
    Branch up = branches.get(2);
    assertEquals(3000, up.startStep());
    assertTrue(up.stepFlops() > 1.05 * fd, "an MoE step (E 8, C 2 in 2 of 4 blocks) costs more than a dense one");
    assertTrue(up.finalStep() - 3000 < 3000, "so it takes fewer extra steps: " + (up.finalStep() - 3000));
    // FLOPs come from the model the branch's settings describe: the MoE's config has 8 experts in blocks 2-3
    TrainConfig c = TrainConfig.defaults().withOverrides(up.settings());
    assertEquals(8, c.modelSpec().moe().orElseThrow().numExperts());
    assertEquals(BranchPlanner.stepFlops(up.settings()), up.stepFlops(), 0);
    Branch scratch = branches.get(4);
    assertEquals(0, scratch.startStep());
    assertEquals(0, scratch.startFlops());
    // from scratch: S plus each budget's compute, so its last point has spent 2 S dense steps' FLOPs
    assertEquals(1.0, scratch.extraComputeAt(scratch.finalStep()), 0.5 * scratch.stepFlops() / scratch.denseBudgetFlops());
    assertTrue(scratch.finalStep() < 6000 && scratch.finalStep() > 3000, "" + scratch.finalStep());
  }

  @Test
  void moreExpertsCostOnlyTheRouter() {
    // Expert Choice at C 2 does the same expert work for any E: only the router's d·E grows
    double f8 = BranchPlanner.stepFlops(Map.of("model.preset", "vit-mnist", "moe.num_experts", "8",
        "moe.encoder_layout", "last_2"));
    double f32 = BranchPlanner.stepFlops(Map.of("model.preset", "vit-mnist", "moe.num_experts", "32",
        "moe.encoder_layout", "last_2"));
    double router = 3 * 2.0 * 8 * 16 * 64 * (32 - 8) * 2; // 3 × fwd, 2 per MAC, batch 8 × 16 tokens, d 64, 2 layers
    assertEquals(router, f32 - f8, 1e-6 * router);
  }

  @Test
  void budgetsRoundingToOneStepKeepTheFirst() {
    ExperimentPlan tiny = new ExperimentPlan(4, List.of(0.1, 0.2, 1.0), List.of(0L), List.of(1.0), 1);
    Branch cont = new BranchPlanner(VIT, tiny).plan(0, List.of(), List.of()).get(1);
    // 0.1 × 4 and 0.2 × 4 both round to 1 step (at least one): one point, labelled 0.1
    assertEquals(Map.of(5L, 0.1, 8L, 1.0), cont.evalSteps());
  }

  @Test
  void planValidation() {
    assertEquals(List.of(0.1, 0.25, 0.5, 1.0), ExperimentPlan.parsePercentages("10, 25,50,100"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ExperimentPlan.parsePercentages("10,x"));
    assertTrue(e.getMessage().contains("'x'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new ExperimentPlan(10, List.of(0.5, 0.25), List.of(0L), List.of(1.0), 1));
    assertTrue(e.getMessage().contains("ascending"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new ExperimentPlan(10, List.of(0.5), List.of(0L, 0L), List.of(1.0), 1));
    assertTrue(e.getMessage().contains("distinct"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new ExperimentPlan(10, List.of(0.5), List.of(0L), List.of(0.5), 1));
    assertTrue(e.getMessage().contains("end at 1"), e.getMessage());
    assertEquals(List.of(0L, 1L, 2L), ExperimentPlan.firstSeeds(3));
  }
}
