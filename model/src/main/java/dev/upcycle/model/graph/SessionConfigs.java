package dev.upcycle.model.graph;

import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;

/**
 * Session settings. XLA on CPU needs both {@code global_jit_level = ON_1} here and the environment
 * variable {@code TF_XLA_FLAGS=--tf_xla_cpu_global_jit} set before the JVM starts (bin/upcycle and
 * Surefire set it); see TFJAVA-NOTES.md.
 */
public final class SessionConfigs {

  private SessionConfigs() {}

  /** CPU session with XLA auto-clustering on or off; TF picks its thread pools. */
  public static ConfigProto cpu(boolean xla) {
    return ConfigProto.newBuilder()
        .setGraphOptions(GraphOptions.newBuilder()
            .setOptimizerOptions(OptimizerOptions.newBuilder()
                .setGlobalJitLevel(xla ? OptimizerOptions.GlobalJitLevel.ON_1 : OptimizerOptions.GlobalJitLevel.OFF)))
        .build();
  }

  /** True when the process was started with the flag that lets XLA cluster on CPU. */
  public static boolean cpuJitEnabled() {
    String flags = System.getenv("TF_XLA_FLAGS");
    return flags != null && flags.contains("--tf_xla_cpu_global_jit");
  }
}
