package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import org.tensorflow.TensorFlow;

/** The machine a benchmark ran on: {@code {"cores":2,"java":"17.0.15","tensorflow":"2.18.0","device":"cpu"}}. */
@JsonPropertyOrder({"cores", "java", "tensorflow", "device"})
public record MachineInfo(int cores, String java, String tensorflow, String device) {

  public MachineInfo {
    checkArgument(cores >= 1, "machine cores must be >= 1, got %s", cores);
    checkNotNull(java, "machine java version");
    checkNotNull(tensorflow, "machine tensorflow version");
    checkNotNull(device, "machine device");
  }

  /** This JVM's available processors, Java version and TensorFlow runtime version, device "cpu". */
  public static MachineInfo cpu() {
    return new MachineInfo(Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"), TensorFlow.version(), "cpu");
  }
}
