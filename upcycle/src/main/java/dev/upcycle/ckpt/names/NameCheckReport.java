package dev.upcycle.ckpt.names;

import java.util.List;
import java.util.Map;

/**
 * The result of {@link NameMap#check}: every outcome, the source names no rule matched, and the
 * targets that two or more sources map to (target → those sources). Lists are immutable.
 */
public record NameCheckReport(List<NameMap.Outcome> outcomes, List<String> unmapped,
    Map<String, List<String>> duplicates) {

  public NameCheckReport {
    outcomes = List.copyOf(outcomes);
    unmapped = List.copyOf(unmapped);
    duplicates = Map.copyOf(duplicates);
  }

  /** True when nothing is unmapped and no two sources share a target. */
  public boolean ok() {
    return unmapped.isEmpty() && duplicates.isEmpty();
  }

  public long mappedCount() {
    return outcomes.stream().filter(o -> o.kind() == NameMap.Kind.MAPPED).count();
  }

  public long droppedCount() {
    return outcomes.stream().filter(o -> o.kind() == NameMap.Kind.DROPPED).count();
  }

  /** A readable report: counts, then each unmapped name and each duplicate target. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    sb.append(outcomes.size()).append(" names: ").append(mappedCount()).append(" mapped, ")
        .append(droppedCount()).append(" dropped, ").append(unmapped.size()).append(" unmapped, ")
        .append(duplicates.size()).append(" targets reached twice\n");
    for (String u : unmapped) {
      sb.append("  unmapped: ").append(u).append('\n');
    }
    duplicates.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e ->
        sb.append("  duplicate target ").append(e.getKey()).append(" <- ").append(e.getValue()).append('\n'));
    return sb.toString();
  }

  @Override
  public String toString() {
    return format();
  }
}
