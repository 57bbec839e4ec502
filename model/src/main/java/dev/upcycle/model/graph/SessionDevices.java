package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_CloseSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListMemoryBytes;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListType;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GetCode;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_Message;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_OK;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;

/**
 * The devices a TensorFlow session of this process sees, listed by the C API
 * ({@code TF_SessionListDevices}) on a session over an empty graph with default options, the
 * placement the benchmarks' sessions get. TF Java's {@code Session} does not expose its native
 * handle, so the listing opens its own session.
 */
public final class SessionDevices {

  /**
   * One device.
   *
   * @param name e.g. {@code /job:localhost/replica:0/task:0/device:GPU:0}
   * @param type e.g. {@code CPU}, {@code GPU}
   * @param memoryBytes the memory TensorFlow may use on it (0 when unknown)
   */
  public record Device(String name, String type, long memoryBytes) {
    public Device {
      checkNotNull(name, "device name");
      checkNotNull(type, "device %s: type", name);
      checkArgument(memoryBytes >= 0, "device %s: memory must be >= 0, got %s", name, memoryBytes);
    }

    /** {@code gpu:0}: the lower-case type and the index after the last {@code :} of the name. */
    public String shortName() {
      int colon = name.lastIndexOf(':');
      String index = colon >= 0 ? name.substring(colon + 1) : "0";
      return type.toLowerCase(Locale.ROOT) + ":" + index;
    }
  }

  private SessionDevices() {}

  /** Lists the devices of a new session; throws {@link IllegalStateException} with TensorFlow's message on failure. */
  public static List<Device> list() {
    TF_Status status = TF_NewStatus();
    TF_Graph graph = TF_NewGraph();
    TF_SessionOptions options = TF_NewSessionOptions();
    try {
      TF_Session session = TF_NewSession(graph, options, status);
      check(status, "creating a session");
      try {
        TF_DeviceList devices = TF_SessionListDevices(session, status);
        check(status, "listing the session's devices");
        try {
          List<Device> out = new ArrayList<>();
          for (int i = 0, n = TF_DeviceListCount(devices); i < n; i++) {
            String name = TF_DeviceListName(devices, i, status).getString();
            check(status, "reading device " + i + "'s name");
            String type = TF_DeviceListType(devices, i, status).getString();
            check(status, "reading device " + name + "'s type");
            long memory = TF_DeviceListMemoryBytes(devices, i, status);
            check(status, "reading device " + name + "'s memory");
            out.add(new Device(name, type, Math.max(0, memory)));
          }
          return out;
        } finally {
          TF_DeleteDeviceList(devices);
        }
      } finally {
        TF_CloseSession(session, status);
        TF_DeleteSession(session, status);
      }
    } finally {
      TF_DeleteSessionOptions(options);
      TF_DeleteGraph(graph);
      TF_DeleteStatus(status);
    }
  }

  /**
   * The device ops are placed on by default, for the benchmark report: the first GPU as
   * {@code gpu:0 (79.2 GiB)} (plus {@code , 1 more GPU} when there are others), else {@code cpu}.
   */
  public static String describe(List<Device> devices) {
    checkNotNull(devices, "devices");
    List<Device> gpus = devices.stream().filter(d -> d.type().equalsIgnoreCase("GPU")).toList();
    if (gpus.isEmpty()) {
      checkArgument(devices.stream().anyMatch(d -> d.type().equalsIgnoreCase("CPU")),
          "the session lists neither a GPU nor a CPU: %s", devices);
      return "cpu";
    }
    Device first = gpus.get(0);
    String out = first.shortName() + (first.memoryBytes() > 0
        ? String.format(Locale.ROOT, " (%.1f GiB)", first.memoryBytes() / (double) (1L << 30)) : "");
    int more = gpus.size() - 1;
    return more == 0 ? out : out + ", " + more + " more GPU" + (more == 1 ? "" : "s");
  }

  /** {@link #describe(List)} of {@link #list()}. */
  public static String describe() {
    return describe(list());
  }

  private static void check(TF_Status status, String what) {
    if (TF_GetCode(status) != TF_OK) {
      throw new IllegalStateException("TensorFlow failed " + what + ": " + TF_Message(status).getString());
    }
  }
}
