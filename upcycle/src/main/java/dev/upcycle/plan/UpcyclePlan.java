package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.TensorInfo;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The ordered rules that turn a dense checkpoint's tensors (canonical names) into the MoE
 * checkpoint's, plus what the builder could not place: source tensors no name-map rule matched and
 * problems found while building (a layer chosen as MoE that has no dense MLP, ...). Made by
 * {@link PlanBuilder}, checked by {@link PlanCheck}, executed by {@link ConvertJob}. Immutable.
 *
 * @param rules one per source tensor (COPY, TILE, GRANULAR, TILE_SLOT, DROP) and one per fresh
 *     tensor (FRESH_ROUTER, FRESH_SLOT), in write order
 * @param sources every source tensor the plan had to account for (canonical names, plus stored
 *     names of tensors the name map dropped)
 * @param unmapped stored tensors no name-map rule matched (a plan with any fails its check)
 * @param problems builder findings, each a full sentence naming the tensor or layer
 */
public record UpcyclePlan(UpcycleOptions options, List<Rule> rules, List<TensorInfo> sources,
    List<TensorInfo> unmapped, List<String> problems) {

  public UpcyclePlan {
    checkNotNull(options, "options");
    rules = List.copyOf(rules);
    sources = List.copyOf(sources);
    unmapped = List.copyOf(unmapped);
    problems = List.copyOf(problems);
  }

  /** Every tensor the plan writes, in write order. */
  public List<TensorInfo> targets() {
    return rules.stream().map(Rule::target).filter(Objects::nonNull).toList();
  }

  /** Rules of one kind. */
  public List<Rule> rules(Rule.Kind kind) {
    return rules.stream().filter(r -> r.kind() == kind).toList();
  }

  public long bytesWritten() {
    return rules.stream().mapToLong(Rule::bytesWritten).sum();
  }

  public long bytesRead() {
    return rules.stream().mapToLong(Rule::bytesRead).sum();
  }

  /** Rule count per kind (every kind present, possibly 0). */
  public Map<Rule.Kind, Integer> counts() {
    Map<Rule.Kind, Integer> m = new EnumMap<>(Rule.Kind.class);
    for (Rule.Kind k : Rule.Kind.values()) {
      m.put(k, 0);
    }
    rules.forEach(r -> m.merge(r.kind(), 1, Integer::sum));
    return m;
  }

  /** Every rule, one per line. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    rules.forEach(r -> sb.append(r).append('\n'));
    return sb.toString();
  }
}
