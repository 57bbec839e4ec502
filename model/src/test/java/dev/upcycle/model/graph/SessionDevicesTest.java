package dev.upcycle.model.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SessionDevicesTest {

  private static final SessionDevices.Device CPU =
      new SessionDevices.Device("/job:localhost/replica:0/task:0/device:CPU:0", "CPU", 268_435_456);

  @Test
  void listsTheSessionsDevicesWithACpu() {
    List<SessionDevices.Device> devices = SessionDevices.list();
    assertFalse(devices.isEmpty());
    assertTrue(devices.stream().anyMatch(d -> d.type().equals("CPU") && d.shortName().equals("cpu:0")),
        devices.toString());
    boolean gpu = devices.stream().anyMatch(d -> d.type().equals("GPU"));
    assertEquals(gpu, SessionDevices.describe().startsWith("gpu:0"), SessionDevices.describe());
  }

  @Test
  void describesTheDefaultDevice() {
    assertEquals("cpu", SessionDevices.describe(List.of(CPU)));
    SessionDevices.Device gpu0 =
        new SessionDevices.Device("/job:localhost/replica:0/task:0/device:GPU:0", "GPU", 85_000_000_000L);
    SessionDevices.Device gpu1 =
        new SessionDevices.Device("/job:localhost/replica:0/task:0/device:GPU:1", "GPU", 0);
    assertEquals("gpu:0 (79.2 GiB)", SessionDevices.describe(List.of(CPU, gpu0)));
    assertEquals("gpu:0 (79.2 GiB), 1 more GPU", SessionDevices.describe(List.of(CPU, gpu0, gpu1)));
    assertEquals("gpu:1, 1 more GPU", SessionDevices.describe(List.of(gpu1, gpu0)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SessionDevices.describe(List.of()));
    assertTrue(e.getMessage().contains("neither a GPU nor a CPU"), e.getMessage());
  }
}
