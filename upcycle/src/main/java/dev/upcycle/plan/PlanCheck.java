package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.names.CanonicalNames;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a plan before any byte is written (DESIGN.md §4): every source tensor is consumed or
 * dropped on purpose (none unmapped), every target is produced exactly once, shapes and dtypes
 * agree with each rule (an expert tensor is [E] + the dense shape, or the chunk shape under
 * granularity), and, when the MoE model's variables are given, that the targets are exactly those
 * variables with those shapes (optimizer state aside).
 */
public final class PlanCheck {

  private PlanCheck() {}

  public static PlanReport check(UpcyclePlan plan) {
    return check(plan, null);
  }

  /**
   * @param expected the variables of the MoE model the output is for (names and shapes, e.g. from
   *     a {@code VariableStore}); null to skip that comparison
   */
  public static PlanReport check(UpcyclePlan plan, List<TensorInfo> expected) {
    checkNotNull(plan, "plan");
    List<String> problems = new ArrayList<>(plan.problems());
    for (TensorInfo u : plan.unmapped()) {
      problems.add("source tensor " + u + " is not matched by any rule of the name map (add a rule, or a DROP rule)");
    }
    Map<String, Integer> sourceCount = new HashMap<>();
    plan.sources().forEach(s -> sourceCount.merge(s.name(), 1, Integer::sum));
    Map<String, Integer> consumed = new HashMap<>();
    Map<String, List<String>> producers = new LinkedHashMap<>();
    int e = plan.options().numExperts();
    int g = plan.options().granularity();
    for (Rule r : plan.rules()) {
      if (r.source() != null) {
        consumed.merge(r.source().name(), 1, Integer::sum);
      }
      if (r.target() != null) {
        producers.computeIfAbsent(r.target().name(), k -> new ArrayList<>())
            .add(r.source() == null ? "(fresh)" : r.source().name());
      }
      String shapeProblem = shapeProblem(r, e, g);
      if (shapeProblem != null) {
        problems.add(shapeProblem);
      }
    }
    sourceCount.forEach((name, n) -> {
      int c = consumed.getOrDefault(name, 0);
      if (c != n) {
        problems.add("source tensor " + name + " is used by " + c + " rule(s) but listed " + n + " time(s)");
      }
    });
    consumed.keySet().stream().filter(n -> !sourceCount.containsKey(n)).sorted()
        .forEach(n -> problems.add("a rule reads " + n + ", which is not in the source checkpoint"));
    producers.forEach((name, from) -> {
      if (from.size() > 1) {
        problems.add("target tensor " + name + " is produced " + from.size() + " times (from " + from + ")");
      }
    });
    if (expected != null) {
      Map<String, TensorInfo> produced = new HashMap<>();
      plan.targets().forEach(t -> produced.putIfAbsent(t.name(), t));
      Map<String, TensorInfo> wanted = new LinkedHashMap<>();
      expected.forEach(t -> wanted.put(t.name(), t));
      for (TensorInfo w : wanted.values()) {
        TensorInfo p = produced.get(w.name());
        if (p == null) {
          problems.add("the model config needs " + w.name() + " " + Arrays.toString(w.shape())
              + " but the plan produces no such tensor");
        } else if (!Arrays.equals(p.shape(), w.shape())) {
          problems.add("shape mismatch with the model config: " + w.name() + " is " + Arrays.toString(w.shape())
              + " in the config but " + Arrays.toString(p.shape()) + " in the plan");
        }
      }
      produced.keySet().stream().filter(n -> !CanonicalNames.isState(n) && !wanted.containsKey(n)).sorted()
          .forEach(n -> problems.add("the plan produces " + n + ", which the model config does not have"));
    }
    return report(plan, problems);
  }

  private static String shapeProblem(Rule r, int e, int g) {
    TensorInfo s = r.source();
    TensorInfo t = r.target();
    switch (r.kind()) {
      case COPY -> {
        if (!s.equals(t)) {
          return "COPY " + s + " -> " + t + " changes dtype or shape";
        }
      }
      case TILE, TILE_SLOT -> {
        if (s.dtype() != t.dtype() || !Arrays.equals(PlanBuilder.prepend(e, s.shape()), t.shape())) {
          return r.kind() + " " + s + " -> " + t + ": expected " + s.dtype().numpyName()
              + Arrays.toString(PlanBuilder.prepend(e, s.shape()));
        }
      }
      case GRANULAR -> {
        long[] want = s.shape();
        if (r.ffAxis() >= 0) {
          want[r.ffAxis()] /= g;
        }
        if (s.dtype() != t.dtype() || !Arrays.equals(PlanBuilder.prepend(e, want), t.shape())) {
          return "GRANULAR " + s + " -> " + t + ": expected " + Arrays.toString(PlanBuilder.prepend(e, want));
        }
      }
      case FRESH_ROUTER -> {
        long[] shape = t.shape();
        if (shape.length != 2 || shape[1] != e) {
          return "router " + t + ": expected [d, " + e + "]";
        }
      }
      case FRESH_SLOT, DROP -> { }
    }
    return null;
  }

  private static PlanReport report(UpcyclePlan plan, List<String> problems) {
    List<PlanReport.KindTotal> kinds = new ArrayList<>();
    for (Rule.Kind k : Rule.Kind.values()) {
      List<Rule> rs = plan.rules(k);
      kinds.add(new PlanReport.KindTotal(k, rs.size(), rs.stream().mapToLong(Rule::bytesRead).sum(),
          rs.stream().mapToLong(Rule::bytesWritten).sum()));
    }
    return new PlanReport(problems, kinds, plan.sources().size(), plan.targets().size(), plan.bytesRead(),
        plan.bytesWritten());
  }
}
