package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.Folders;
import dev.upcycle.model.Presets;
import dev.upcycle.model.T5Config;
import dev.upcycle.plan.ConvertJob;
import dev.upcycle.plan.ConvertResult;
import dev.upcycle.plan.ProgressListener;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.synthetic.SyntheticCheckpoint;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code bench convert} (DESIGN.md §9): conversion throughput against a plain file copy of the same
 * number of bytes on the same disk in the same run, and the conversion's peak resident memory.
 *
 * <p>Writes a synthetic dense float32 checkpoint with T5 v1.1 Base shapes (d 768, d_ff 2048, 12 + 12
 * layers, vocab 32128: ~248M parameters, ~1 GB; {@code layers} scales it down) into a temporary
 * folder. Then, {@code repeats} times, in alternating order: (1) runs {@link ConvertJob} with E
 * experts, every other layer, in a child JVM, which reports its own {@code VmHWM} from
 * {@code /proc/self/status}; (2) copies the source files round-robin with {@code Files.copy}
 * (the last one cut short with {@code transferTo}) until exactly as many bytes as the conversion
 * put on disk are written, each file fsynced, as the writer syncs at commit. Both read the source
 * from the page cache (it was just written); each output is deleted before the next measurement.
 *
 * <p>The copy writes the same number of bytes as the conversion because a disk's rate depends on
 * how much is written: on the development VM {@code dd ... conv=fsync} writes 1 GB at ~470 MB/s and
 * 2.6 GB at 260–390 MB/s, so timing a 2.6 GB conversion against a 1 GB copy would blame the
 * converter for the disk. Results: per repeat the MB/s of each and their ratio; the medians;
 * {@code throughput_over_copy} is the median ratio and {@code peak_rss_mb} the largest VmHWM. The
 * JSON goes to stdout, progress to stderr. No test asserts on these numbers.
 */
public final class ConvertBenchmark {

  /** What to run. */
  public record Settings(int experts, int layers, int repeats, Path workParent, String childHeap, boolean keep) {
    public Settings {
      checkArgument(experts >= 1, "experts must be >= 1, got %s", experts);
      checkArgument(layers >= 2, "layers must be >= 2, got %s", layers);
      checkArgument(repeats >= 1, "repeats must be >= 1, got %s", repeats);
      checkArgument(workParent != null, "workParent must be set");
    }

    public static Settings defaults() {
      return new Settings(8, 12, 3, Path.of(System.getProperty("java.io.tmpdir")), "2g", false);
    }
  }

  /** One conversion and the copy timed against it. */
  record Repeat(double convSeconds, long onDisk, long tensorBytes, double rssMb, double copySeconds,
      long copied) {
    double convRate() {
      return onDisk / convSeconds;
    }

    double copyRate() {
      return copied / copySeconds;
    }

    double ratio() {
      return convRate() / copyRate();
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CHILD = "--child";

  private ConvertBenchmark() {}

  /** Runs the benchmark and returns its report. */
  public static BenchReport run(Settings s, PrintStream progress) throws IOException, InterruptedException {
    MachineInfo machine = MachineInfo.detect();
    T5Config config = ((T5Config) Presets.get("t5-base")).withLayers(s.layers(), s.layers());
    Path work = Files.createTempDirectory(s.workParent(), "convert-bench-");
    try {
      Path dense = work.resolve("dense");
      progress.printf("writing a synthetic dense checkpoint (T5 v1.1 Base shapes, %d+%d layers) to %s%n",
          s.layers(), s.layers(), dense);
      long denseBytes = SyntheticCheckpoint.writeT5(dense.resolve("model.ckpt-1000"), config, DType.FLOAT32,
          SyntheticCheckpoint.Slots.NONE, 1000, 1);
      List<Path> sources;
      try (Stream<Path> files = Files.list(dense)) {
        sources = files.sorted().toList();
      }
      List<Repeat> repeats = new ArrayList<>();
      long expectedOnDisk = -1;
      for (int r = 0; r < s.repeats(); r++) {
        double copySeconds = 0;
        long copied = 0;
        boolean copyFirst = r % 2 == 1;
        if (copyFirst) {
          // the first conversion fixed the byte count; later repeats copy the same amount first
          progress.printf("[%d/%d] copying %,d bytes (Files.copy + fsync)%n", r + 1, s.repeats(), expectedOnDisk);
          long t0 = System.nanoTime();
          copied = copyBytes(sources, work.resolve("copy"), expectedOnDisk);
          copySeconds = (System.nanoTime() - t0) / 1e9;
          Folders.deleteTree(work.resolve("copy"));
        }
        progress.printf("[%d/%d] converting with E=%d every_other in a child JVM (-Xmx%s)%n", r + 1, s.repeats(),
            s.experts(), s.childHeap());
        Path moe = work.resolve("moe");
        JsonNode child = runChild(dense, moe, s);
        long onDisk = sizeOf(moe);
        Folders.deleteTree(moe);
        if (expectedOnDisk < 0) {
          expectedOnDisk = onDisk;
        }
        if (!copyFirst) {
          progress.printf("[%d/%d] copying %,d bytes (Files.copy + fsync)%n", r + 1, s.repeats(), onDisk);
          long t0 = System.nanoTime();
          copied = copyBytes(sources, work.resolve("copy"), onDisk);
          copySeconds = (System.nanoTime() - t0) / 1e9;
          Folders.deleteTree(work.resolve("copy"));
        }
        Repeat rep = new Repeat(child.get("seconds").asDouble(), onDisk, child.get("bytes_written").asLong(),
            child.get("vmhwm_kb").asLong() / 1024.0, copySeconds, copied);
        progress.printf("[%d/%d] convert %.1f MB/s, copy %.1f MB/s, ratio %.3f, peak RSS %.0f MB%n", r + 1,
            s.repeats(), rep.convRate() / 1e6, rep.copyRate() / 1e6, rep.ratio(), rep.rssMb());
        repeats.add(rep);
      }
      return report(machine, s, denseBytes, repeats);
    } finally {
      if (!s.keep()) {
        Folders.deleteTree(work);
      }
    }
  }

  static BenchReport report(MachineInfo machine, Settings s, long denseBytes, List<Repeat> repeats) {
    double peak = repeats.stream().mapToDouble(Repeat::rssMb).max().orElseThrow();
    List<BenchResult> results = new ArrayList<>();
    results.add(BenchResult.untimed(BenchResult.name("convert", "e" + s.experts(), false))
        .with("seconds", median(repeats.stream().mapToDouble(Repeat::convSeconds).toArray()))
        .with("source_bytes", denseBytes)
        .with("tensor_bytes_written", repeats.get(0).tensorBytes())
        .with("bytes_on_disk", repeats.get(0).onDisk())
        .with("mb_per_s", median(repeats.stream().mapToDouble(r -> r.convRate() / 1e6).toArray()))
        .with("peak_rss_mb", peak)
        .with("child_heap", s.childHeap())
        .with("layers_per_stack", s.layers())
        .with("repeats", repeats.size()));
    results.add(BenchResult.untimed(BenchResult.name("copy", "plain", false))
        .with("seconds", median(repeats.stream().mapToDouble(Repeat::copySeconds).toArray()))
        .with("bytes", repeats.get(0).copied())
        .with("mb_per_s", median(repeats.stream().mapToDouble(r -> r.copyRate() / 1e6).toArray())));
    for (int i = 0; i < repeats.size(); i++) {
      Repeat r = repeats.get(i);
      results.add(BenchResult.untimed(BenchResult.name("repeat", String.valueOf(i + 1), false))
          .with("convert_mb_per_s", r.convRate() / 1e6)
          .with("copy_mb_per_s", r.copyRate() / 1e6)
          .with("throughput_over_copy", r.ratio())
          .with("peak_rss_mb", r.rssMb()));
    }
    Map<String, Double> ratios = new LinkedHashMap<>();
    ratios.put("throughput_over_copy", median(repeats.stream().mapToDouble(Repeat::ratio).toArray()));
    ratios.put("peak_rss_mb", peak);
    return new BenchReport("convert", machine, 0, results, ratios);
  }

  /**
   * Copies {@code sources} round-robin into the new folder {@code to} until exactly {@code bytes}
   * bytes are written (the last file cut short), fsyncing each file; returns the bytes written.
   */
  static long copyBytes(List<Path> sources, Path to, long bytes) throws IOException {
    checkArgument(!sources.isEmpty(), "no source files to copy");
    Files.createDirectory(to);
    long copied = 0;
    for (int i = 0; copied < bytes; i++) {
      Path from = sources.get(i % sources.size());
      Path dst = to.resolve(i + "-" + from.getFileName());
      long size = Files.size(from);
      if (copied + size <= bytes) {
        Files.copy(from, dst);
        copied += size;
      } else {
        long want = bytes - copied;
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
            FileChannel out = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          for (long pos = 0; pos < want; ) {
            pos += in.transferTo(pos, want - pos, out);
          }
        }
        copied += want;
      }
      try (FileChannel ch = FileChannel.open(dst, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
    }
    return copied;
  }

  private static double median(double[] values) {
    return Timing.Stats.of(values).median();
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

  /** The child process of {@link #run}: {@code ConvertBenchmark --child FROM TO EXPERTS}; {@code bench convert} is the command. */
  public static void main(String[] args) throws Exception {
    if (args.length != 4 || !args[0].equals(CHILD)) {
      throw new IllegalArgumentException("expected " + CHILD + " FROM TO EXPERTS (the child of `upcycle bench convert`,"
          + " which is the command to run), got " + java.util.Arrays.toString(args));
    }
    child(args);
  }
}
