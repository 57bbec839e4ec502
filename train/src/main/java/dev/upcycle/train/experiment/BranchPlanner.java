package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableSortedMap;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.FlopCount;
import dev.upcycle.train.config.TrainConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Plans the branches of one seed at equal training compute. With f_d and f_m the FLOPs of a dense
 * and an MoE training step ({@link FlopCount#trainStep}) and S the dense budget in steps:
 * <ul>
 *   <li>dense: S steps from scratch, evaluated at each point c of the dense curve (step round(c·S));
 *   <li>continuation: from the dense checkpoint, evaluated at S + round(b·S) for each budget b;
 *   <li>upcycled: from the dense checkpoint converted to the variant's MoE, evaluated at
 *       S + max(1, round(b·S·f_d/f_m)) — fewer steps where a step costs more;
 *   <li>from scratch: the variant's MoE from fresh weights, evaluated at max(1, round((1+b)·S·f_d/f_m))
 *       — the dense budget's compute plus b of it.
 * </ul>
 * The step counter carries on from S in the branches that start from the dense checkpoint (the
 * paper's recipe), so their schedules continue.
 */
public final class BranchPlanner {

  /** Branch name of the dense run. */
  public static final String DENSE = "dense";
  /** Branch name of the dense continuation. */
  public static final String CONTINUATION = "continuation";

  private final ExperimentTask task;
  private final ExperimentPlan plan;

  public BranchPlanner(ExperimentTask task, ExperimentPlan plan) {
    this.task = checkNotNull(task, "task");
    this.plan = checkNotNull(plan, "plan");
  }

  /**
   * The branches of {@code seed}, in the order they run: dense, continuation, one upcycled branch
   * per variant, then one from-scratch branch per {@code scratch} variant.
   */
  public List<Branch> plan(long seed, List<Variant> upcycled, List<Variant> scratch) {
    checkNotNull(upcycled, "upcycled");
    checkNotNull(scratch, "scratch");
    long s = plan.denseSteps();
    Map<String, String> dense = settings(seed, Map.of());
    double fd = stepFlops(dense);
    double budgetFlops = s * fd;
    List<Branch> out = new ArrayList<>();

    ImmutableSortedMap.Builder<Long, Double> curve = ImmutableSortedMap.naturalOrder();
    for (double c : distinctSteps(plan.curve(), c -> Math.max(1, Math.round(c * s)))) {
      curve.put(Math.max(1, Math.round(c * s)), c - 1);
    }
    out.add(new Branch(DENSE, BranchKind.DENSE, seed, Optional.empty(), withSteps(dense, s), 0, s, curve.build(), fd,
        0, budgetFlops));

    out.add(continued(CONTINUATION, BranchKind.CONTINUATION, seed, Optional.empty(), dense, fd, budgetFlops));
    for (Variant v : upcycled) {
      Map<String, String> moe = settings(seed, v.moeSettings());
      out.add(continued("upcycled-" + v.name(), BranchKind.UPCYCLED, seed, Optional.of(v), moe, stepFlops(moe),
          budgetFlops));
    }
    for (Variant v : scratch) {
      Map<String, String> moe = settings(seed, v.moeSettings());
      double fm = stepFlops(moe);
      ImmutableSortedMap.Builder<Long, Double> at = ImmutableSortedMap.naturalOrder();
      for (double b : distinctSteps(plan.budgets(), b -> Math.max(1, Math.round((1 + b) * budgetFlops / fm)))) {
        at.put(Math.max(1, Math.round((1 + b) * budgetFlops / fm)), b);
      }
      ImmutableSortedMap<Long, Double> evalAt = at.build();
      out.add(new Branch("scratch-" + v.name(), BranchKind.SCRATCH, seed, Optional.of(v),
          withSteps(moe, evalAt.lastKey()), 0, evalAt.lastKey(), evalAt, fm, 0, budgetFlops));
    }
    return out;
  }

  /** FLOPs of one training step of the model and batch {@code settings} describe. */
  public static double stepFlops(Map<String, String> settings) {
    TrainConfig c = TrainConfig.defaults().withOverrides(settings);
    BatchShape shape = c.batchShape();
    return FlopCount.trainStep(c.modelSpec(), shape.batch(), shape.inputLength(), shape.targetLength());
  }

  private Branch continued(String name, BranchKind kind, long seed, Optional<Variant> variant,
      Map<String, String> settings, double stepFlops, double budgetFlops) {
    long s = plan.denseSteps();
    ImmutableSortedMap.Builder<Long, Double> at = ImmutableSortedMap.naturalOrder();
    for (double b : distinctSteps(plan.budgets(), b -> s + Math.max(1, Math.round(b * budgetFlops / stepFlops)))) {
      at.put(s + Math.max(1, Math.round(b * budgetFlops / stepFlops)), b);
    }
    ImmutableSortedMap<Long, Double> evalAt = at.build();
    return new Branch(name, kind, seed, variant, withSteps(settings, evalAt.lastKey()), s, evalAt.lastKey(), evalAt,
        stepFlops, budgetFlops, budgetFlops);
  }

  /** The task's model and job settings, {@code more}, and the seed. */
  private Map<String, String> settings(long seed, Map<String, String> more) {
    Map<String, String> all = new LinkedHashMap<>(task.modelSettings());
    all.putAll(task.jobSettings());
    all.putAll(more);
    all.put("seed", String.valueOf(seed));
    return all;
  }

  private static Map<String, String> withSteps(Map<String, String> settings, long trainSteps) {
    Map<String, String> all = new LinkedHashMap<>(settings);
    all.put("train_steps", String.valueOf(trainSteps));
    return all;
  }

  /** The values whose steps differ from the previous value's (two budgets rounding to one step keep the first). */
  private static List<Double> distinctSteps(List<Double> values, java.util.function.DoubleToLongFunction step) {
    List<Double> out = new ArrayList<>();
    long previous = Long.MIN_VALUE;
    for (double v : values) {
      long at = step.applyAsLong(v);
      checkArgument(at >= previous, "steps must grow with the budget");
      if (at != previous) {
        out.add(v);
      }
      previous = at;
    }
    return out;
  }
}
