package dev.upcycle.tools.bench;

import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;
import org.tensorflow.proto.OptimizerOptions.GlobalJitLevel;

/**
 * {@link ConfigProto}s for CPU sessions, with XLA auto-clustering on or off.
 *
 * <p>XLA on CPU also needs {@code TF_XLA_FLAGS=--tf_xla_cpu_global_jit} in the environment before
 * the JVM starts ({@code bin/upcycle} and Surefire set it); without it {@code ON_1} forms no cluster.
 * Thread pools keep TensorFlow's defaults (intra/inter-op threads 0 = one per core).
 */
public final class SessionConfigs {

  private SessionConfigs() {}

  /** Global JIT level {@code ON_1} when {@code xla}, {@code OFF} otherwise. */
  public static ConfigProto cpu(boolean xla) {
    GlobalJitLevel level = xla ? GlobalJitLevel.ON_1 : GlobalJitLevel.OFF;
    return ConfigProto.newBuilder()
        .setGraphOptions(GraphOptions.newBuilder()
            .setOptimizerOptions(OptimizerOptions.newBuilder().setGlobalJitLevel(level)))
        .build();
  }
}
