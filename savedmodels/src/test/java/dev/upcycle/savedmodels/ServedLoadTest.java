package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.Presets;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.RestPredict;
import dev.upcycle.savedmodels.rest.ServedModel;
import dev.upcycle.savedmodels.rest.batching.BatchingParameters;
import dev.upcycle.savedmodels.rest.batching.BatchingPredictor;
import dev.upcycle.savedmodels.server.TestServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bounded load test of issue 11, through the model server over loopback HTTP (the JDK's
 * {@link HttpClient}) with batching on: 32 concurrent clients × 50 predict requests, against TF
 * Serving's half_plus_two and against a ViT our exporter wrote. Every answer is 200 and equal to the
 * unbatched answer of the same request ({@link RestPredict} on the same SavedModel), none is lost;
 * halfway, every client sends malformed requests (a storm of 32 × 10), each answered with its 4xx
 * error, after which the server keeps serving; batching happened (fewer runs than requests), no
 * request was refused for a full queue, nothing is left in flight. The p99 latency is printed, not
 * asserted.
 */
class ServedLoadTest {

  static final int CLIENTS = 32;
  static final int REQUESTS = 50;
  static final int MALFORMED = 10;
  /** Distinct request bodies per model; client c's request i is body (7c + i) mod POOL. */
  static final int POOL = 40;
  static final long WAIT_MINUTES = 10;

  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();

  @TempDir Path tmp;

  /** {@code n} values of half_plus_two's input, row format. */
  private static String halfPlusTwo(int k) {
    int n = 1 + k % 3;
    return IntStream.range(0, n).mapToObj(j -> Double.toString(k + j / 4.0))
        .collect(Collectors.joining(", ", "{\"instances\": [", "]}"));
  }

  @Test
  void halfPlusTwoUnderLoadWithBatching() throws Exception {
    Path base = TestServers.base("tfserving_saved_model_half_plus_two_cpu", tmp);
    load("hpt", base, new BatchingParameters(8, 2000, 100, 2, "load_batch_threads", List.of(), false, false, 0),
        ServedLoadTest::halfPlusTwo);
  }

  @Test
  void exportedVitUnderLoadWithBatching() throws Exception {
    ModelSpec spec = ModelSpec.dense((VitConfig) Presets.get("vit-mnist"));
    int exportBatch = 4;
    RestPredictTest.checkpoint(spec, new BatchShape(exportBatch, 1, 1), tmp.resolve("ckpt/model.ckpt-1"));
    SavedModelExporter.export(spec, tmp.resolve("ckpt"), tmp.resolve("serving/vit"),
        ExportOptions.defaults().withBatch(exportBatch).withVerify(false), null, line -> { });
    load("vit", tmp.resolve("serving/vit"), new BatchingParameters(16, 2000, 100, 2, "load_batch_threads", List.of(),
        false, false, 0), k -> {
          int n = 1 + k % 8 / 7; // mostly one image: merged runs of at most 4 keep p99 well under the read timeout
          float[] pixels = RestPredictTest.pixels(n, 1000L + k);
          return IntStream.range(0, n).mapToObj(i -> RestPredictTest.image(pixels, i))
              .collect(Collectors.joining(",", "{\"instances\": [", "]}"));
        });
  }

  /** A malformed request: its path (relative to the model URL) and body. */
  private record Malformed(String path, String body) {}

  private static final List<Malformed> STORM = List.of(
      new Malformed(":predict", "{\"instances\": [1.0"),
      new Malformed(":predict", "not json"),
      new Malformed(":predict", "{\"instances\": [[1.0], [2.0, 3.0]]}"),
      new Malformed(":predict", "{\"instances\": [1.0, \"x\"]}"),
      new Malformed(":predict", "{\"signature_name\": \"nope\", \"instances\": [1.0]}"),
      new Malformed(":predict", "{\"instances\": [], \"inputs\": []}"),
      new Malformed(":nonsense", "{\"instances\": [1.0]}"),
      new Malformed("/versions/99:predict", "{\"instances\": [1.0]}"),
      new Malformed("/versions/x:predict", "{\"instances\": [1.0]}"),
      new Malformed(":predict", ""));

  private void load(String name, Path base, BatchingParameters params, IntFunction<String> request)
      throws Exception {
    List<String> bodies = IntStream.range(0, POOL).mapToObj(request).toList();
    List<String> expected = new ArrayList<>();
    try (ServedModel direct = ServedModel.load(ServingVersions.resolve(base))) {
      for (String b : bodies) {
        expected.add(RestPredict.predict(direct, b.getBytes(StandardCharsets.UTF_8), "request"));
      }
    }
    BatchingPredictor batching = BatchingPredictor.start(params);
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    try (TestServers.Running s = TestServers.Running.start(TestServers.options(name, base).withThreads(CLIENTS),
        batching)) {
      URI model = s.uri("/v1/models/" + name);
      CyclicBarrier phase = new CyclicBarrier(CLIENTS);
      List<Future<long[]>> clients = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        clients.add(pool.submit(() -> {
          long[] nanos = new long[REQUESTS];
          for (int i = 0; i < REQUESTS; i++) {
            if (i == REQUESTS / 2) {
              phase.await(WAIT_MINUTES, TimeUnit.MINUTES);
              for (int m = 0; m < MALFORMED; m++) {
                Malformed bad = STORM.get((client + m) % STORM.size());
                HttpResponse<String> r = post(URI.create(model + bad.path()), bad.body());
                String what = "malformed " + bad + ": " + r.statusCode() + " " + r.body();
                assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, what);
                assertTrue(RestJson.mapper().readTree(r.body()).hasNonNull("error"), what);
              }
              phase.await(WAIT_MINUTES, TimeUnit.MINUTES);
            }
            int k = (client * 7 + i) % POOL;
            long t0 = System.nanoTime();
            HttpResponse<String> r = post(URI.create(model + ":predict"), bodies.get(k));
            nanos[i] = System.nanoTime() - t0;
            String what = name + " client " + client + " request " + i + ": " + r.statusCode();
            assertEquals(200, r.statusCode(), what + " " + r.body());
            RestAnswers.assertSameAnswer(expected.get(k), r.body(), what);
          }
          return nanos;
        }));
      }
      long[] all = new long[0];
      for (Future<long[]> f : clients) {
        long[] n = f.get(WAIT_MINUTES, TimeUnit.MINUTES);
        all = concat(all, n);
      }
      assertEquals(CLIENTS * REQUESTS, all.length, "none lost");
      BatchingPredictor.Stats stats = batching.stats();
      assertEquals(CLIENTS * REQUESTS, stats.requests(), "every well-formed request reached the batcher: " + stats);
      assertTrue(stats.runs() < stats.requests(), "batching happened: " + stats);
      assertEquals(0, stats.rejected(), stats.toString());
      assertEquals(200, s.get("/v1/models/" + name).status(), "still serving after the storm");
      TestServers.await(() -> s.server().inFlight() == 0, () -> s.server().inFlight() + " in flight");
      Arrays.sort(all);
      System.out.printf(Locale.ROOT, "load %s: %d requests from %d clients, p50 %.1f ms, p99 %.1f ms, %s%n", name,
          all.length, CLIENTS, all[all.length / 2] / 1e6, all[(int) Math.ceil(all.length * 0.99) - 1] / 1e6, stats);
    } finally {
      pool.shutdownNow();
    }
  }

  private static long[] concat(long[] a, long[] b) {
    long[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static HttpResponse<String> post(URI uri, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
