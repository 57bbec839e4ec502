package dev.upcycle.train.experiment;

import static com.google.common.base.Preconditions.checkNotNull;

/**
 * One evaluation of one branch.
 *
 * @param branch the branch's name
 * @param kind the branch's kind
 * @param seed its seed
 * @param budget the nominal extra budget (fraction of S; {@code c - 1} on the dense curve)
 * @param step the step counter after which it was evaluated
 * @param branchSteps steps this branch had trained by then
 * @param flops training FLOPs spent from the very start (the dense budget included where the branch
 *     starts from the dense checkpoint)
 * @param extraCompute {@code flops} as a fraction of the dense budget, minus 1
 * @param wallSeconds this branch's training wall time by then (steps only; evaluation and checkpoint
 *     writes left out; the dense branch's time is not added to the branches that start from it)
 * @param loss held-out total loss (cross-entropy + z-loss)
 * @param crossEntropy held-out cross-entropy
 * @param accuracy held-out accuracy
 */
public record EvalPoint(String branch, BranchKind kind, long seed, double budget, long step, long branchSteps,
    double flops, double extraCompute, double wallSeconds, double loss, double crossEntropy, double accuracy) {

  public EvalPoint {
    checkNotNull(branch, "branch");
    checkNotNull(kind, "kind");
  }
}
