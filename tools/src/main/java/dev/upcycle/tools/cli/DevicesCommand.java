package dev.upcycle.tools.cli;

import dev.upcycle.model.graph.ComputeDevice;
import dev.upcycle.model.graph.SessionDevices;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcycle devices}: what TensorFlow sees in this process (name, type, memory TF may use),
 * and where {@code --device auto} would compute. With {@code --require gpu} it fails (exit 1, the
 * reason on stderr) when TF sees no GPU: scripts/gpu-check.sh uses that.
 */
@Command(name = "devices", description = "List the devices TensorFlow sees (name, type, memory) and where --device"
    + " auto computes.")
public final class DevicesCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--require", paramLabel = "DEVICE",
      description = "Fail unless this device (cpu, gpu or auto) resolves, e.g. --require gpu.")
  String require;

  @Override
  public Integer call() {
    List<SessionDevices.Device> devices = SessionDevices.list();
    PrintWriter out = spec.commandLine().getOut();
    out.printf(Locale.ROOT, "%-8s %-5s %12s  %s%n", "device", "type", "memory", "name");
    for (SessionDevices.Device d : devices) {
      out.printf(Locale.ROOT, "%-8s %-5s %12s  %s%n", d.shortName(), d.type(), memory(d.memoryBytes()), d.name());
    }
    out.println("--device auto computes on: " + ComputeDevice.AUTO.resolve(devices).configName());
    if (require != null) {
      ComputeDevice.parse(require).resolve(devices); // throws with the reason when it cannot
    }
    out.flush();
    return 0;
  }

  private static String memory(long bytes) {
    return bytes <= 0 ? "-" : String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
  }
}
