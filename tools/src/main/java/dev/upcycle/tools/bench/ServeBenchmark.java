package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.Folders;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.Presets;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.FlopCount;
import dev.upcycle.savedmodels.ExportOptions;
import dev.upcycle.savedmodels.rest.batching.BatchingParameters;
import dev.upcycle.savedmodels.rest.batching.BatchingPredictor;
import dev.upcycle.savedmodels.server.ModelServer;
import dev.upcycle.savedmodels.server.PredictHandler;
import dev.upcycle.savedmodels.server.ServerOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * {@code upcycle bench serve}: the model server ({@link ModelServer}) over HTTP on loopback, for a
 * ViT and a T5, each dense and upcycled ({@link ServeExports}). Per model, first the latency of one
 * client sending one example per request ({@code <preset>/<variant>_single/noxla}, batching off),
 * measured <em>interleaved</em>: the servers of all variants are up at once and each round sends one
 * request to every variant, the order rotated per round, so that every variant is measured in the
 * same minutes of the same process (measured one after the other, the first measurement of a fresh
 * JVM came out slower, and a dense-first run once gave 0.77 for a model at the dense FLOPs); these
 * results carry {@code "interleaved": true} and their {@code requests_per_s} is requests ÷ the sum of
 * their own latencies. Then, one variant at a time, throughput and latency with {@code clients}
 * concurrent clients, batching off ({@code ..._concurrent_off}, requests run one by one in the request
 * threads) and on ({@code ..._concurrent_on}, a {@link BatchingPredictor} that merges up to the
 * export's batch). Every result carries {@code p50_ms}, {@code p99_ms}, {@code requests_per_s} and the
 * 1-minute load average read after it ({@code load_avg_1m}). The ratios, per model: MoE ÷ dense
 * {@code p50_ms} of the single client ({@code <model>_moe_over_dense_p50_single}), the median over
 * rounds of each round's MoE ÷ dense latency ({@code ..._paired}, which cancels drifts slower than a
 * round), the same ratio of the FLOPs one serving run computes at the export's batch
 * ({@code FlopCount.serving}: for T5 the encoder once and the decoder per output position), the p50
 * ratio divided by the FLOP ratio, and batching on ÷ off throughput. With an eval capacity factor
 * ({@link Settings#evalCapacityFactor}) the upcycled model is also exported with it ({@code moe_eval})
 * and measured in the interleaved single-client rounds, with the same four ratios
 * ({@code <model>_moe_eval_over_dense_...}). The served sessions run without XLA.
 */
public final class ServeBenchmark {

  /** Distinct request bodies per model (client c's request i is body (c + i) mod POOL). */
  static final int POOL = 16;
  /** How long the first request of an open batch waits for more. */
  static final long BATCH_TIMEOUT_MICROS = 2000;
  /** The batch queue's depth: enough that closed-loop clients are never refused. */
  static final long MAX_ENQUEUED_BATCHES = 100;
  /** Seconds one request may take (the server's read timeout). */
  static final int READ_TIMEOUT_SECONDS = 120;

  /**
   * What to measure.
   *
   * @param vitPreset the ViT preset ({@code vit-tiny}; quick: {@code vit-mnist})
   * @param t5Preset the T5 preset ({@code t5-small}; quick: {@code t5-tiny})
   * @param experts experts of the upcycled models
   * @param exportBatch the exported graphs' batch, also batching's {@code max_batch_size}
   * @param t5Length the T5 export's input length (each request sends this many token ids)
   * @param t5TargetLength the T5 export's decoder positions (greedy output of up to this minus one)
   * @param warmup untimed requests per client before each measurement (single client: untimed rounds)
   * @param singleRequests timed rounds of the single client, each one request to every variant
   * @param clients concurrent clients
   * @param requestsPerClient timed requests of each concurrent client
   * @param workParent where the checkpoints and exports are written (deleted at the end)
   * @param evalCapacityFactor 0, or a third variant: the upcycled model exported with this eval
   *     capacity factor ({@code moe_eval}), measured with the single client only
   */
  public record Settings(String vitPreset, String t5Preset, int experts, int exportBatch, int t5Length,
      int t5TargetLength, int warmup, int singleRequests, int clients, int requestsPerClient, Path workParent,
      double evalCapacityFactor) {

    public Settings {
      checkArgument(Presets.get(vitPreset) instanceof VitConfig, "vit preset '%s' is not a ViT", vitPreset);
      checkArgument(Presets.get(t5Preset) instanceof T5Config, "t5 preset '%s' is not a T5", t5Preset);
      checkArgument(experts >= 2, "experts must be >= 2, got %s", experts);
      checkArgument(exportBatch >= 1, "export batch must be >= 1, got %s", exportBatch);
      checkArgument(t5Length >= 2 && t5TargetLength >= 2, "t5 lengths must be >= 2, got %s and %s", t5Length,
          t5TargetLength);
      checkArgument(warmup >= 0, "warmup must be >= 0, got %s", warmup);
      checkArgument(singleRequests >= 1 && clients >= 1 && requestsPerClient >= 1,
          "single requests, clients and requests per client must be >= 1, got %s, %s, %s", singleRequests, clients,
          requestsPerClient);
      checkNotNull(workParent, "workParent");
      checkArgument(evalCapacityFactor >= 0 && Double.isFinite(evalCapacityFactor),
          "eval capacity factor must be >= 0 (0: none), got %s", evalCapacityFactor);
    }

    /** ViT-tiny and t5-small, E = 8, batch 8, 32 clients. */
    public static Settings full(Path workParent) {
      return new Settings("vit-tiny", "t5-small", 8, 8, 32, 8, 3, 100, 32, 8, workParent, 0);
    }

    /** Small models and few requests: the same report in seconds (for smoke tests). */
    public static Settings quick(Path workParent) {
      return new Settings("vit-mnist", "t5-tiny", 4, 4, 8, 3, 1, 5, 4, 3, workParent, 0);
    }

    public Settings withEvalCapacityFactor(double value) {
      return new Settings(vitPreset, t5Preset, experts, exportBatch, t5Length, t5TargetLength, warmup, singleRequests,
          clients, requestsPerClient, workParent, value);
    }

    public Settings withClients(int n) {
      return new Settings(vitPreset, t5Preset, experts, exportBatch, t5Length, t5TargetLength, warmup, singleRequests,
          n, requestsPerClient, workParent, evalCapacityFactor);
    }

    public Settings withRequests(int single, int perClient) {
      return new Settings(vitPreset, t5Preset, experts, exportBatch, t5Length, t5TargetLength, warmup, single,
          clients, perClient, workParent, evalCapacityFactor);
    }

    public Settings withExperts(int e) {
      return new Settings(vitPreset, t5Preset, e, exportBatch, t5Length, t5TargetLength, warmup, singleRequests,
          clients, requestsPerClient, workParent, evalCapacityFactor);
    }
  }

  private ServeBenchmark() {}

  /** Runs the benchmark; progress lines go to {@code progress}. */
  public static BenchReport run(Settings s, PrintStream progress) throws IOException, InterruptedException {
    MachineInfo machine = MachineInfo.detect();
    Path work = Files.createTempDirectory(Files.createDirectories(s.workParent()), "serve-bench-");
    List<BenchResult> results = new ArrayList<>();
    Map<String, Double> ratios = new LinkedHashMap<>();
    try {
      for (String kind : new String[] {"vit", "t5"}) {
        String preset = kind.equals("vit") ? s.vitPreset() : s.t5Preset();
        ArchitectureConfig config = Presets.get(preset);
        ExportOptions export = ExportOptions.defaults().withBatch(s.exportBatch()).withLength(s.t5Length())
            .withTargetLength(s.t5TargetLength()).withVerify(false);
        ServeExports exports = ServeExports.make(config, s.experts(), export, work.resolve(kind),
            line -> progress.println("bench serve: " + preset + ": " + line));
        List<String> bodies = bodies(config, s.t5Length());
        Map<String, Path> singleBases = new LinkedHashMap<>();
        singleBases.put("dense", exports.dense());
        singleBases.put("moe", exports.moe());
        ModelSpec evalServed = null;
        if (s.evalCapacityFactor() > 0) {
          progress.printf("bench serve: %s: exporting the upcycled model with eval capacity factor %s%n", preset,
              s.evalCapacityFactor());
          Path evalBase = work.resolve(kind).resolve("moe-eval");
          evalServed = exports.exportEval(export.withEvalCapacityFactor(s.evalCapacityFactor()), evalBase);
          singleBases.put("moe_eval", evalBase);
        }
        Map<String, long[]> single = interleaved(s, preset, singleBases, bodies, progress);
        for (Map.Entry<String, long[]> e : single.entrySet()) {
          BenchResult r = result(preset, e.getKey() + "_single", HttpLoad.Outcome.serial(e.getValue()), 1, false)
              .with("interleaved", true);
          results.add(e.getKey().equals("moe_eval") ? r.with("eval_capacity_factor", s.evalCapacityFactor()) : r);
        }
        putOverDense(ratios, kind + "_moe", single.get("dense"), single.get("moe"),
            flopRatio(s, exports.moeSpec(), config));
        for (String variant : new String[] {"dense", "moe"}) {
          ratios.put(kind + "_" + variant + "_batching_on_over_off_throughput",
              concurrent(s, preset, variant, singleBases.get(variant), bodies, progress, results));
        }
        if (evalServed != null) {
          putOverDense(ratios, kind + "_moe_eval", single.get("dense"), single.get("moe_eval"),
              flopRatio(s, evalServed, config));
        }
      }
    } finally {
      Folders.deleteTree(work);
    }
    return new BenchReport("serve", machine, 0, results, ratios);
  }

  /**
   * The single-client phase of one model: a server per variant of {@code bases}, all up at once (batching
   * off), then {@code warmup} untimed and {@code singleRequests} timed rounds, each sending one request
   * (the same body) to every variant, one after the other, the order rotated by one per round (round
   * {@code i} starts with variant {@code i mod n}), so that no variant is always first and each round
   * compares the variants within the same seconds of the same process.
   *
   * @return each variant's latencies in nanoseconds, indexed by timed round, in {@code bases}' order
   */
  private static Map<String, long[]> interleaved(Settings s, String preset, Map<String, Path> bases,
      List<String> bodies, PrintStream progress) throws IOException, InterruptedException {
    List<String> variants = List.copyOf(bases.keySet());
    int n = variants.size();
    progress.printf("bench serve: %s: 1 client, %s interleaved, %d warm-up + %d timed rounds%n", preset,
        String.join(", ", variants), s.warmup(), s.singleRequests());
    List<ModelServer> servers = new ArrayList<>();
    try {
      List<URI> urls = new ArrayList<>();
      for (String variant : variants) {
        ModelServer server = ModelServer.start(serverOptions(s, preset, bases.get(variant)), PredictHandler.DIRECT,
            line -> log(progress, line));
        servers.add(server);
        urls.add(URI.create(server.modelUrl() + ":predict"));
      }
      HttpClient http = HttpLoad.client();
      long[][] nanos = new long[n][s.singleRequests()]; // [variant, round]
      for (int i = 0; i < s.warmup() + s.singleRequests(); i++) {
        String body = bodies.get(i % bodies.size());
        for (int k = 0; k < n; k++) {
          int v = (i + k) % n;
          long t = HttpLoad.timed(http, urls.get(v), body);
          if (i >= s.warmup()) {
            nanos[v][i - s.warmup()] = t;
          }
        }
      }
      Map<String, long[]> out = new LinkedHashMap<>();
      for (int v = 0; v < n; v++) {
        out.put(variants.get(v), nanos[v]);
      }
      return out;
    } finally {
      servers.forEach(ModelServer::close);
    }
  }

  /**
   * {@code variant}'s concurrent results, batching off then on, appended to {@code results}.
   *
   * @return batching on ÷ off throughput
   */
  private static double concurrent(Settings s, String preset, String variant, Path base, List<String> bodies,
      PrintStream progress, List<BenchResult> results) throws IOException, InterruptedException {
    ServerOptions options = serverOptions(s, preset, base);
    HttpLoad.Outcome off;
    try (ModelServer server = ModelServer.start(options, PredictHandler.DIRECT, line -> log(progress, line))) {
      progress.printf("bench serve: %s %s: %d clients x %d requests, batching off%n", preset, variant, s.clients(),
          s.requestsPerClient());
      off = HttpLoad.run(URI.create(server.modelUrl() + ":predict"), bodies, s.clients(), s.warmup(),
          s.requestsPerClient());
      results.add(result(preset, variant + "_concurrent_off", off, s.clients(), false));
    }
    BatchingParameters params = new BatchingParameters(s.exportBatch(), BATCH_TIMEOUT_MICROS, MAX_ENQUEUED_BATCHES,
        Runtime.getRuntime().availableProcessors(), "bench_batch_threads", List.of(), false, false, 0);
    BatchingPredictor batching = BatchingPredictor.start(params);
    HttpLoad.Outcome on;
    BatchingPredictor.Stats stats;
    try (ModelServer server = ModelServer.start(options, batching, line -> log(progress, line))) {
      URI url = URI.create(server.modelUrl() + ":predict");
      progress.printf("bench serve: %s %s: %d clients x %d requests, batching on%n", preset, variant, s.clients(),
          s.requestsPerClient());
      on = HttpLoad.run(url, bodies, s.clients(), s.warmup(), s.requestsPerClient());
      stats = batching.stats();
    }
    results.add(result(preset, variant + "_concurrent_on", on, s.clients(), true)
        .with("max_batch_size", params.maxBatchSize()).with("batch_timeout_micros", params.batchTimeoutMicros())
        .with("runs", stats.runs()).with("batched_runs", stats.batchedRuns())
        .with("batching_requests", stats.requests()));
    return on.requestsPerSecond() / off.requestsPerSecond();
  }

  /** The server of one measurement: loopback, a free port, no version polling. */
  private static ServerOptions serverOptions(Settings s, String preset, Path base) {
    return ServerOptions.of(preset, base).withHost("127.0.0.1").withPort(0).withPollSeconds(0)
        .withThreads(s.clients()).withReadTimeoutSeconds(READ_TIMEOUT_SECONDS);
  }

  /** The FLOPs of one serving run of {@code moe} ÷ those of the dense {@code config}, at the export's shapes. */
  private static double flopRatio(Settings s, ModelSpec moe, ArchitectureConfig config) {
    return FlopCount.serving(moe, s.exportBatch(), s.t5Length(), s.t5TargetLength())
        / FlopCount.serving(ModelSpec.dense(config), s.exportBatch(), s.t5Length(), s.t5TargetLength());
  }

  /**
   * {@code <prefix>_over_dense_p50_single} (p50 ÷ p50 of the same rounds), {@code _p50_single_paired} (the
   * median over rounds of the round's latency ÷ dense's; an even count's median is the mean of the middle
   * two), {@code _flops} and {@code _p50_single_per_flop} (the first ÷ the FLOP ratio).
   *
   * @param dense the dense variant's latencies, by round
   * @param moe the other variant's latencies of the same rounds
   */
  private static void putOverDense(Map<String, Double> ratios, String prefix, long[] dense, long[] moe,
      double flopRatio) {
    checkArgument(dense.length == moe.length, "%s: %s dense and %s rounds", prefix, dense.length, moe.length);
    double p50Ratio = HttpLoad.Outcome.serial(moe).quantileMs(0.5) / HttpLoad.Outcome.serial(dense).quantileMs(0.5);
    double[] perRound = IntStream.range(0, dense.length).mapToDouble(r -> (double) moe[r] / dense[r]).toArray();
    ratios.put(prefix + "_over_dense_p50_single", p50Ratio);
    ratios.put(prefix + "_over_dense_p50_single_paired", Timing.Stats.of(perRound).median());
    ratios.put(prefix + "_over_dense_flops", flopRatio);
    ratios.put(prefix + "_over_dense_p50_single_per_flop", p50Ratio / flopRatio);
  }

  private static BenchResult result(String preset, String variant, HttpLoad.Outcome o, int clients,
      boolean batching) {
    return BenchResult.timed(BenchResult.name(preset, variant, false), o.stats())
        .with("p50_ms", o.quantileMs(0.5)).with("p99_ms", o.quantileMs(0.99))
        .with("requests_per_s", o.requestsPerSecond()).with("clients", clients).with("requests", o.nanos().length)
        .with("batching", batching).with("load_avg_1m", loadAverage());
  }

  private static void log(PrintStream progress, String line) {
    if (line.startsWith("error")) { // loads and unloads are expected; errors are not
      progress.println("bench serve: server: " + line);
    }
  }

  /** Request bodies of one example each: an image of {@code config}'s size, or {@code length} token ids. */
  static List<String> bodies(ArchitectureConfig config, int length) {
    SplittableRandom rnd = new SplittableRandom(13);
    List<String> out = new ArrayList<>();
    for (int k = 0; k < POOL; k++) {
      String example;
      if (config instanceof VitConfig v) { // [image_size, image_size, channels], multiples of 1/256 in [-1, 1)
        example = IntStream.range(0, v.imageSize()).mapToObj(y -> IntStream.range(0, v.imageSize())
            .mapToObj(x -> IntStream.range(0, v.channels()).mapToObj(ch -> Float.toString(rnd.nextInt(512) / 256f - 1f))
                .collect(Collectors.joining(",", "[", "]"))).collect(Collectors.joining(",", "[", "]")))
            .collect(Collectors.joining(",", "[", "]"));
      } else { // [length] token ids, none of them padding (0) or EOS (1)
        int vocab = ((T5Config) config).vocabSize();
        example = IntStream.range(0, length).mapToObj(t -> Integer.toString(2 + rnd.nextInt(vocab - 2)))
            .collect(Collectors.joining(",", "[", "]"));
      }
      out.add("{\"instances\": [" + example + "]}");
    }
    return out;
  }

  /** The 1-minute load average (what {@code uptime} prints first), -1 where /proc/loadavg is missing. */
  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
