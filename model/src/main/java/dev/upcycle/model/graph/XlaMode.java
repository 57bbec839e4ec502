package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.tensorflow.op.Ops;

/**
 * How a step graph uses XLA (config key {@code xla}, option {@code --xla}).
 *
 * <ul>
 *   <li>{@link #MODULE}: the whole step (forward, backward, optimizer update) is one function called
 *       through a node carrying {@code _XlaMustCompile} ({@link XlaModule}): one XLA module,
 *       whatever the session's auto-clustering flags; input feeding stays outside on purpose.
 *   <li>{@link #AUTO}: TF's global auto-clustering ({@code global_jit_level = ON_1}; on CPU it also
 *       needs {@code TF_XLA_FLAGS=--tf_xla_cpu_global_jit}), which forms as many clusters as it sees fit
 *       among the op types the flags allow ({@link SessionConfigs#CPU_XLA_FLAGS}: fusible ops only);
 *       a train step's update stays on TF's kernels ({@link #updateOps}).
 *   <li>{@link #OFF}: plain TF kernels.
 * </ul>
 */
public enum XlaMode {
  OFF, AUTO, MODULE;

  /**
   * The default: the fastest mode measured with {@code bench train} on CPU (docs/xla.md); GPU
   * figures are pending, so the same default applies there.
   */
  public static final XlaMode DEFAULT = OFF;

  /** The config spelling: {@code off}, {@code auto}, {@code module}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether the session enables global auto-clustering. */
  public boolean autoClustering() {
    return this == AUTO;
  }

  /**
   * The ops a train step's update (gradient checks, clipping, the optimizer, the step increment)
   * is built with: under {@link #AUTO} kept out of the clusters ({@link XlaExclusion}: clustered,
   * the update became one slow ~8,000-node cluster, docs/xla.md); otherwise {@code tf} itself
   * ({@link #MODULE} compiles the update with the rest of the step by design).
   */
  public Ops updateOps(Ops tf) {
    return this == AUTO ? XlaExclusion.ops(tf) : tf;
  }

  /**
   * Parses {@code off|auto|module}; the booleans of older configs are accepted ({@code true} = auto,
   * the only XLA mode there was, {@code false} = off).
   */
  public static XlaMode parse(String text) {
    checkNotNull(text, "xla mode");
    String t = text.trim().toLowerCase(Locale.ROOT);
    switch (t) {
      case "true":
        return AUTO;
      case "false":
        return OFF;
      default:
        for (XlaMode m : values()) {
          if (m.configName().equals(t)) {
            return m;
          }
        }
        throw new IllegalArgumentException("xla must be one of " + Arrays.stream(values()).map(XlaMode::configName)
            .collect(Collectors.joining(", ")) + " (or true/false), got '" + text + "'");
    }
  }
}
