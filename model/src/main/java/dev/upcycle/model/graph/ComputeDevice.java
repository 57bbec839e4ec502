package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Where a step computes (config key {@code device}, option {@code --device}). The model session
 * places its ops on the chosen device; the input pipeline (plain Java) and checkpoint I/O (Java
 * reading and writing the values fetched from / fed to the session) stay on the host.
 *
 * <ul>
 *   <li>{@link #CPU}: the session hides every GPU ({@code device_count {GPU: 0}}), even where TF sees one.
 *   <li>{@link #GPU}: the session places compute on {@code GPU:0} (TF's default placement when a GPU
 *       is visible, with soft placement for the few ops without a GPU kernel); an error when TF sees no
 *       GPU (this build's native library is the CPU one unless built with {@code -Pgpu}, docs/gpu.md).
 *   <li>{@link #AUTO}: GPU when TF sees one, else CPU.
 * </ul>
 */
public enum ComputeDevice {
  CPU, GPU, AUTO;

  /** The config spelling: {@code cpu}, {@code gpu}, {@code auto}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code cpu|gpu|auto}. */
  public static ComputeDevice parse(String text) {
    checkNotNull(text, "device");
    String t = text.trim().toLowerCase(Locale.ROOT);
    for (ComputeDevice d : values()) {
      if (d.configName().equals(t)) {
        return d;
      }
    }
    throw new IllegalArgumentException("device must be one of " + Arrays.stream(values())
        .map(ComputeDevice::configName).collect(Collectors.joining(", ")) + ", got '" + text + "'");
  }

  /** {@link #resolve(List)} against the devices this process's TF sees. */
  public ComputeDevice resolve() {
    return this == CPU ? CPU : resolve(SessionDevices.list());
  }

  /**
   * CPU or GPU: AUTO becomes GPU when {@code seen} lists one; GPU without one is an error that says
   * what TF sees and how to get a GPU build.
   */
  public ComputeDevice resolve(List<SessionDevices.Device> seen) {
    checkNotNull(seen, "devices");
    boolean gpu = seen.stream().anyMatch(d -> d.type().equalsIgnoreCase("GPU"));
    return switch (this) {
      case CPU -> CPU;
      case AUTO -> gpu ? GPU : CPU;
      case GPU -> {
        if (!gpu) {
          throw new IllegalArgumentException("device gpu: TensorFlow sees no GPU (it sees " + seen.stream()
              .map(SessionDevices.Device::shortName).toList() + "). Build with 'mvn -Pgpu' (the GPU native library)"
              + " on a host with the NVIDIA driver, CUDA 12 and cuDNN 9 (docs/gpu.md), check with"
              + " 'bin/upcycle devices', or use --device cpu / auto");
        }
        yield GPU;
      }
    };
  }
}
