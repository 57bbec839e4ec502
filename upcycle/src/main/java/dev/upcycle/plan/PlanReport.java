package dev.upcycle.plan;

import java.util.List;
import java.util.Locale;

/**
 * The result of {@link PlanCheck}: problems (empty when the plan may run) and, per rule kind, how
 * many rules and how many bytes they read and write. This is what a dry run prints.
 */
public record PlanReport(List<String> problems, List<KindTotal> kinds, int sources, int targets, long bytesRead,
    long bytesWritten) {

  /** Totals of one rule kind. */
  public record KindTotal(Rule.Kind kind, int count, long bytesRead, long bytesWritten) {}

  public PlanReport {
    problems = List.copyOf(problems);
    kinds = List.copyOf(kinds);
  }

  public boolean ok() {
    return problems.isEmpty();
  }

  /** Throws {@link PlanCheckException} listing every problem unless the plan is fine. */
  public PlanReport orThrow() {
    if (!ok()) {
      throw new PlanCheckException(this);
    }
    return this;
  }

  /** A table of counts and bytes per rule kind, totals, then each problem. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-13s %7s %16s %16s%n", "rule", "tensors", "bytes read", "bytes written"));
    for (KindTotal k : kinds) {
      sb.append(String.format(Locale.ROOT, "%-13s %7d %16d %16d%n", k.kind(), k.count(), k.bytesRead(),
          k.bytesWritten()));
    }
    sb.append(String.format(Locale.ROOT, "%-13s %7s %16d %16d%n", "total", sources + "->" + targets, bytesRead,
        bytesWritten));
    if (ok()) {
      sb.append("plan check: OK\n");
    } else {
      sb.append("plan check: ").append(problems.size()).append(" problem(s)\n");
      problems.forEach(p -> sb.append("  - ").append(p).append('\n'));
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return format();
  }
}
