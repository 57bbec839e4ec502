package dev.upcycle.plan;

/** A plan failed its check; nothing was written. The message lists every problem. */
public final class PlanCheckException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final transient PlanReport report;

  public PlanCheckException(PlanReport report) {
    super("the upcycling plan failed its check, nothing was written:\n" + String.join("\n",
        report.problems().stream().map(p -> "  - " + p).toList()));
    this.report = report;
  }

  public PlanReport report() {
    return report;
  }
}
