package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;

/**
 * Per-op times of a session step from TensorFlow's step stats ({@code FULL_TRACE}): each traced
 * step is run, its op times ({@code op_end - op_start}) are summed per op type, and the median over
 * steps is kept. Ops run in parallel on the inter-op pool, so the sum can exceed the wall time;
 * under XLA a compiled cluster shows up as one {@code _XlaRun}.
 */
final class StepProfile {

  /** One op type: median total milliseconds per step, and how many ops of it ran per step. */
  record OpTime(String type, double ms, int count) {}

  private final List<OpTime> ops;
  private final double wallMs;

  private StepProfile(List<OpTime> ops, double wallMs) {
    this.ops = List.copyOf(ops);
    this.wallMs = wallMs;
  }

  /** Runs {@code steps} traced steps, each built by {@code runner}, after the caller's warm-up. */
  static StepProfile trace(Supplier<Session.Runner> runner, int steps) {
    checkArgument(steps >= 1, "profiled steps must be >= 1, got %s", steps);
    Map<String, double[]> ms = new HashMap<>();
    Map<String, Integer> counts = new HashMap<>();
    double[] wall = new double[steps];
    for (int i = 0; i < steps; i++) {
      Session.Runner r = runner.get()
          .setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build());
      long t0 = System.nanoTime();
      RunMetadata meta;
      try (Result res = r.runAndFetchMetadata()) {
        meta = res.getMetadata().orElseThrow(() -> new IllegalStateException("the traced step returned no metadata"));
      }
      wall[i] = (System.nanoTime() - t0) / 1e6;
      Map<String, Integer> stepCounts = new HashMap<>();
      for (DeviceStepStats dev : meta.getStepStats().getDevStatsList()) {
        for (NodeExecStats n : dev.getNodeStatsList()) {
          String type = opType(n);
          double t = Math.max(0, n.getOpEndRelMicros() - n.getOpStartRelMicros()) / 1e3;
          ms.computeIfAbsent(type, k -> new double[steps])[i] += t;
          stepCounts.merge(type, 1, Integer::sum);
        }
      }
      stepCounts.forEach((k, v) -> counts.merge(k, v, Math::max));
    }
    List<OpTime> ops = new ArrayList<>();
    ms.forEach((type, perStep) -> ops.add(new OpTime(type, Timing.Stats.of(perStep).median(), counts.get(type))));
    ops.sort(Comparator.comparingDouble(OpTime::ms).reversed());
    return new StepProfile(ops, Timing.Stats.of(wall).median());
  }

  /** The op type from the timeline label {@code "name = Type(inputs)"}, else the node name. */
  static String opType(NodeExecStats n) {
    String label = n.getTimelineLabel();
    int eq = label.indexOf(" = ");
    int paren = label.indexOf('(', Math.max(eq, 0));
    if (eq >= 0 && paren > eq) {
      return label.substring(eq + 3, paren);
    }
    return n.getNodeName().isEmpty() ? "?" : n.getNodeName();
  }

  List<OpTime> ops() {
    return ops;
  }

  /** Median wall time of a traced step (tracing adds overhead). */
  double wallMs() {
    return wallMs;
  }

  /** Sum over op types of their median times. */
  double totalOpMs() {
    return ops.stream().mapToDouble(OpTime::ms).sum();
  }

  /** The {@code top} op types by time, one line each, with their share of all op time. */
  String format(String title, int top) {
    StringBuilder b = new StringBuilder();
    double total = totalOpMs();
    b.append(String.format(Locale.ROOT, "%s: traced step %.1f ms wall, %.1f ms summed over ops%n", title, wallMs, total));
    for (OpTime o : ops.subList(0, Math.min(top, ops.size()))) {
      b.append(String.format(Locale.ROOT, "  %-28s %9.2f ms %5.1f %%  x%d%n", o.type(), o.ms(),
          total > 0 ? 100 * o.ms() / total : 0, o.count()));
    }
    return b.toString();
  }
}
