package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.model.graph.SessionDevices;
import org.tensorflow.TensorFlow;

/**
 * The machine a benchmark ran on:
 * {@code {"cores":2,"java":"17.0.15","tensorflow":"2.18.0","device":"cpu","xla_cpu_jit_flag":true,
 * "tf_xla_flags":"--tf_xla_cpu_global_jit --tf_xla_ops_to_cluster=FUSIBLE"}};
 * {@code device} is what a TensorFlow session of the process lists ({@link SessionDevices#describe()}),
 * e.g. {@code cpu} or {@code gpu:0 (139.8 GiB)}; {@code xla_cpu_jit_flag} tells whether the process
 * was started with the flag that lets XLA cluster on CPU, and {@code tf_xla_flags} is the whole
 * {@code TF_XLA_FLAGS} it ran with ({@link SessionConfigs#xlaFlags()}: which ops XLA may cluster;
 * "" when unset, and in reports written before the field existed).
 */
@JsonPropertyOrder({"cores", "java", "tensorflow", "device", "xla_cpu_jit_flag", "tf_xla_flags"})
public record MachineInfo(int cores, String java, String tensorflow, String device,
    @JsonProperty("xla_cpu_jit_flag") boolean xlaCpuJitFlag, @JsonProperty("tf_xla_flags") String tfXlaFlags) {

  public MachineInfo {
    tfXlaFlags = tfXlaFlags == null ? "" : tfXlaFlags;
    checkArgument(cores >= 1, "machine cores must be >= 1, got %s", cores);
    checkNotNull(java, "machine java version");
    checkNotNull(tensorflow, "machine tensorflow version");
    checkNotNull(device, "machine device");
  }

  /**
   * This JVM's available processors and Java version, the TensorFlow runtime version and the
   * session's device. Loads the TensorFlow runtime, so call it before anything is timed.
   */
  public static MachineInfo detect() {
    String tensorflow = TensorFlow.version();
    return new MachineInfo(Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), tensorflow,
        SessionDevices.describe(), SessionConfigs.cpuJitEnabled(), SessionConfigs.xlaFlags());
  }
}
