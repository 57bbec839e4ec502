package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableSortedMap;
import java.util.Map;
import java.util.Optional;

/**
 * One training run of an experiment, planned before it starts.
 *
 * @param name folder and legend name ({@code dense}, {@code continuation}, {@code upcycled-last_2}, ...)
 * @param kind what it is
 * @param seed weights, data order, dropout and router seed
 * @param variant the MoE (upcycled and from-scratch branches)
 * @param settings every config key of the run except {@code output_dir}
 * @param startStep the step counter the run starts at (S for runs from the dense checkpoint)
 * @param finalStep the step counter it stops at
 * @param evalSteps step counter → nominal extra budget (a fraction of S; {@code c - 1} for point c of
 *     the dense curve), evaluated after that step
 * @param stepFlops training FLOPs of one step ({@link dev.upcycle.model.arch.FlopCount#trainStep})
 * @param startFlops training FLOPs spent before this run's first step (S dense steps for runs that
 *     start from the dense checkpoint, else 0)
 * @param denseBudgetFlops the dense budget's FLOPs (S dense steps), the unit of the compute axis
 */
public record Branch(String name, BranchKind kind, long seed, Optional<Variant> variant, Map<String, String> settings,
    long startStep, long finalStep, ImmutableSortedMap<Long, Double> evalSteps, double stepFlops, double startFlops,
    double denseBudgetFlops) {

  public Branch {
    checkNotNull(name, "name");
    checkNotNull(kind, "kind");
    checkNotNull(variant, "variant");
    checkArgument(variant.isPresent() == (kind == BranchKind.UPCYCLED || kind == BranchKind.SCRATCH),
        "branch %s: a %s branch %s a variant", name, kind, variant.isPresent() ? "has no" : "needs");
    settings = Map.copyOf(settings);
    checkArgument(finalStep > startStep, "branch %s: final step %s must be above the start step %s", name,
        finalStep, startStep);
    checkArgument(!evalSteps.isEmpty(), "branch %s has no evaluation step", name);
    checkArgument(evalSteps.firstKey() > startStep && evalSteps.lastKey() == finalStep,
        "branch %s: evaluation steps %s must lie in (%s, %s] and end at the final step", name, evalSteps.keySet(),
        startStep, finalStep);
    checkArgument(stepFlops > 0 && startFlops >= 0 && denseBudgetFlops > 0,
        "branch %s: FLOPs must be positive (step %s, start %s, dense budget %s)", name, stepFlops, startFlops,
        denseBudgetFlops);
  }

  /** Training FLOPs spent up to (and including) step counter {@code step}, from the very start. */
  public double flopsAt(long step) {
    return startFlops + (step - startStep) * stepFlops;
  }

  /** Extra compute at {@code step} as a fraction of the dense budget (negative along the dense curve). */
  public double extraComputeAt(long step) {
    return flopsAt(step) / denseBudgetFlops - 1;
  }
}
