package dev.upcycle.train.step;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * A step produced a non-finite loss or gradient. Names the step and the variables whose gradient
 * had a NaN or infinity; the job stops and the last checkpoint written stays the last good one.
 */
public final class NonFiniteException extends RuntimeException {

  private final long step;
  private final ImmutableList<String> variables;

  public NonFiniteException(long step, double loss, double gradNorm, List<String> variables) {
    super(String.format("step %d: non-finite %s (loss %s, gradient norm %s)%s; stopping, the last checkpoint written"
            + " is the last good one", step, variables.isEmpty() ? "loss" : "gradient", loss, gradNorm,
        variables.isEmpty() ? "" : " in variable(s) " + String.join(", ", variables)));
    this.step = step;
    this.variables = ImmutableList.copyOf(variables);
  }

  /** The update number (0-based state/step) that failed. */
  public long step() {
    return step;
  }

  /** Variables whose gradient had a non-finite element; empty when only the loss was non-finite. */
  public ImmutableList<String> variables() {
    return variables;
  }
}
