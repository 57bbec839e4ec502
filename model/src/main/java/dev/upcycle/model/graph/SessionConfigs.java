package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;

/**
 * Session settings. XLA auto-clustering on CPU needs both {@code global_jit_level = ON_1} here and
 * the environment variable {@code TF_XLA_FLAGS} with {@code --tf_xla_cpu_global_jit} set before the
 * JVM starts (bin/upcycle and Surefire set {@link #CPU_XLA_FLAGS}); see TFJAVA-NOTES.md. A
 * one-module step ({@link XlaModule}) compiles whatever these flags say.
 */
public final class SessionConfigs {

  /**
   * The {@code TF_XLA_FLAGS} this project runs with (bin/upcycle's default, Surefire's setting):
   * auto-clustering on CPU, restricted to the op types XLA fuses ({@code FUSIBLE}: element-wise
   * ops, reductions, softmax, TopKV2, reshapes, slices, concatenations). MatMul, gathers and
   * scatters stay TensorFlow kernels (oneDNN for MatMul): XLA's CPU dots on an MoE layer's
   * per-expert row blocks ran 12–20 % slower than oneDNN's, which made every MoE block slower with
   * XLA than without; fused element-wise chains are where XLA gains (docs/xla.md, "Clustering only
   * fusible ops": better for every MoE block; with the train step's update kept out of the
   * clusters, {@link XlaMode#updateOps}, faster than off for vit-tiny). A one-module step
   * ({@link XlaModule}) is not auto-clustering and compiles everything.
   */
  public static final String CPU_XLA_FLAGS = "--tf_xla_cpu_global_jit --tf_xla_ops_to_cluster=FUSIBLE";

  private SessionConfigs() {}

  /**
   * A session with XLA auto-clustering on or off and TF's default placement (a GPU when TF sees one,
   * the CPU in this project's default build); TF picks its thread pools. Steps that take a
   * {@code --device} use {@link #of} instead.
   */
  public static ConfigProto cpu(boolean xla) {
    return ConfigProto.newBuilder().setGraphOptions(jit(xla)).build();
  }

  private static GraphOptions.Builder jit(boolean on) {
    return GraphOptions.newBuilder().setOptimizerOptions(OptimizerOptions.newBuilder()
        .setGlobalJitLevel(on ? OptimizerOptions.GlobalJitLevel.ON_1 : OptimizerOptions.GlobalJitLevel.OFF));
  }

  /**
   * A session for a resolved device ({@link ComputeDevice#CPU} or {@link ComputeDevice#GPU}) with
   * auto-clustering on or off. CPU hides the GPUs; GPU keeps TF's GPU-first placement, with soft
   * placement for ops that have no GPU kernel and memory grown as needed (not all of it up front).
   */
  public static ConfigProto of(boolean autoClustering, ComputeDevice device) {
    checkNotNull(device, "device");
    checkArgument(device != ComputeDevice.AUTO, "resolve the device first (ComputeDevice.resolve), got auto");
    ConfigProto.Builder b = ConfigProto.newBuilder().setGraphOptions(jit(autoClustering));
    if (device == ComputeDevice.CPU) {
      b.putDeviceCount("GPU", 0);
    } else {
      b.setAllowSoftPlacement(true);
      b.getGpuOptionsBuilder().setAllowGrowth(true);
    }
    return b.build();
  }

  /** True when the process was started with the flag that lets XLA cluster on CPU. */
  public static boolean cpuJitEnabled() {
    return xlaFlags().contains("--tf_xla_cpu_global_jit");
  }

  /** This process's {@code TF_XLA_FLAGS} ("" when unset); TensorFlow reads them once, at start. */
  public static String xlaFlags() {
    String flags = System.getenv("TF_XLA_FLAGS");
    return flags == null ? "" : flags.strip();
  }
}
