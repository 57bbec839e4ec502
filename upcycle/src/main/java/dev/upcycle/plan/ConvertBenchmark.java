package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.DType;
import dev.upcycle.model.Presets;
import dev.upcycle.model.T5Config;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code bench convert} (DESIGN.md §9): conversion throughput against a plain file copy on the same
 * disk in the same run, and the conversion's peak resident memory.
 *
 * <p>Writes a synthetic dense float32 checkpoint with T5 v1.1 Base shapes (d 768, d_ff 2048, 12 + 12
 * layers, vocab 32128: ~248M parameters, ~1 GB; {@code layers} scales it down) into a temporary
 * folder, then (1) copies its files with {@code Files.copy} (plus fsync, as the writer syncs at
 * commit) and (2) runs {@link ConvertJob} with E experts, every other layer, in a child JVM, which
 * reports its own {@code VmHWM} from {@code /proc/self/status}. Both read the source from the page
 * cache (it was just written). Results: bytes written per second of each, their ratio
 * {@code throughput_over_copy}, and {@code peak_rss_mb}. The JSON goes to stdout, progress to
 * stderr. No test asserts on these numbers.
 */
public final class ConvertBenchmark {

  /** What to run. */
  public record Settings(int experts, int layers, Path workParent, String childHeap, boolean keep) {
    public Settings {
      checkArgument(experts >= 1, "experts must be >= 1, got %s", experts);
      checkArgument(layers >= 2, "layers must be >= 2, got %s", layers);
    }

    public static Settings defaults() {
      return new Settings(8, 12, Path.of(System.getProperty("java.io.tmpdir")), "2g", false);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String CHILD = "--child";

  private ConvertBenchmark() {}

  /** Runs the benchmark and returns the JSON document. */
  public static ObjectNode run(Settings s, PrintStream progress) throws IOException, InterruptedException {
    T5Config config = ((T5Config) Presets.get("t5-base")).withLayers(s.layers(), s.layers());
    Path work = Files.createTempDirectory(s.workParent(), "convert-bench-");
    try {
      Path dense = work.resolve("dense");
      progress.printf("writing a synthetic dense checkpoint (T5 v1.1 Base shapes, %d+%d layers) to %s%n",
          s.layers(), s.layers(), dense);
      long denseBytes = SyntheticCheckpoint.writeT5(dense.resolve("model.ckpt-1000"), config, DType.FLOAT32,
          SyntheticCheckpoint.Slots.NONE, 1000, 1);

      progress.println("copying the source files (Files.copy + fsync)");
      Path copy = Files.createDirectory(work.resolve("copy"));
      long copyStart = System.nanoTime();
      long copied = 0;
      try (Stream<Path> files = Files.list(dense)) {
        for (Path f : files.sorted().toList()) {
          Path to = copy.resolve(f.getFileName().toString());
          Files.copy(f, to);
          try (FileChannel ch = FileChannel.open(to, StandardOpenOption.WRITE)) {
            ch.force(true);
          }
          copied += Files.size(to);
        }
      }
      double copySeconds = (System.nanoTime() - copyStart) / 1e9;

      progress.printf("converting with E=%d every_other in a child JVM (-Xmx%s)%n", s.experts(), s.childHeap());
      JsonNode child = runChild(dense, work.resolve("moe"), s);
      double convSeconds = child.get("seconds").asDouble();
      long written = child.get("bytes_written").asLong();
      long onDisk = sizeOf(work.resolve("moe"));
      double convRate = onDisk / convSeconds;
      double copyRate = copied / copySeconds;
      double rssMb = child.get("vmhwm_kb").asLong() / 1024.0;

      ObjectNode root = JSON.createObjectNode();
      root.put("bench", "convert");
      ObjectNode machine = root.putObject("machine");
      machine.put("cores", Runtime.getRuntime().availableProcessors());
      machine.put("java", System.getProperty("java.version"));
      machine.put("tensorflow", "2.18.0");
      machine.put("device", "cpu");
      ArrayNode results = root.putArray("results");
      ObjectNode conv = results.addObject();
      conv.put("name", "convert/e" + s.experts() + "/noxla");
      conv.put("seconds", round(convSeconds));
      conv.put("source_bytes", denseBytes);
      conv.put("tensor_bytes_written", written);
      conv.put("bytes_on_disk", onDisk);
      conv.put("mb_per_s", round(convRate / 1e6));
      conv.put("peak_rss_mb", round(rssMb));
      conv.put("child_heap", s.childHeap());
      conv.put("layers_per_stack", s.layers());
      ObjectNode cp = results.addObject();
      cp.put("name", "copy/plain/noxla");
      cp.put("seconds", round(copySeconds));
      cp.put("bytes", copied);
      cp.put("mb_per_s", round(copyRate / 1e6));
      ObjectNode ratios = root.putObject("ratios");
      ratios.put("throughput_over_copy", round(convRate / copyRate));
      ratios.put("peak_rss_mb", round(rssMb));
      return root;
    } finally {
      if (!s.keep()) {
        ConvertJob.deleteTree(work);
      }
    }
  }

  private static JsonNode runChild(Path from, Path to, Settings s) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + s.childHeap(), "-cp",
        System.getProperty("java.class.path"), ConvertBenchmark.class.getName(), CHILD, from.toString(),
        to.toString(), String.valueOf(s.experts())));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String last = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        last = line;
      }
    }
    int rc = p.waitFor();
    if (rc != 0 || last == null) {
      throw new IOException("the conversion child process failed (exit " + rc + "): " + cmd);
    }
    return JSON.readTree(last);
  }

  /** The child: converts, then prints one JSON line with seconds, bytes and VmHWM. */
  private static void child(String[] args) throws IOException {
    long start = System.nanoTime();
    ConvertResult r = ConvertJob.run(Path.of(args[1]), Path.of(args[2]),
        UpcycleOptions.defaults(Integer.parseInt(args[3])), Optional.empty(), false, false, ProgressListener.NONE);
    double seconds = (System.nanoTime() - start) / 1e9;
    ObjectNode out = new ObjectMapper().createObjectNode();
    out.put("seconds", seconds);
    out.put("bytes_written", r.bytesWritten());
    out.put("bytes_read", r.bytesRead());
    out.put("vmhwm_kb", vmHwmKb());
    System.out.println(out);
  }

  /** Peak resident set size of this process in kB (Linux), -1 elsewhere. */
  public static long vmHwmKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  private static long sizeOf(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      long n = 0;
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        n += Files.size(p);
      }
      return n;
    }
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /**
   * {@code ConvertBenchmark [--experts 8] [--layers 12] [--dir /tmp] [--heap 2g] [--keep]}: prints the
   * JSON document.
   */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals(CHILD)) {
      child(args);
      return;
    }
    Settings d = Settings.defaults();
    int experts = d.experts();
    int layers = d.layers();
    Path dir = d.workParent();
    String heap = d.childHeap();
    boolean keep = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--experts" -> experts = Integer.parseInt(args[++i]);
        case "--layers" -> layers = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--heap" -> heap = args[++i];
        case "--keep" -> keep = true;
        default -> throw new IllegalArgumentException("unknown argument '" + args[i]
            + "'; expected --experts N, --layers N, --dir PATH, --heap SIZE, --keep");
      }
    }
    ObjectNode result = run(new Settings(experts, layers, dir, heap, keep), System.err);
    System.out.println(JSON.writeValueAsString(result));
  }
}
