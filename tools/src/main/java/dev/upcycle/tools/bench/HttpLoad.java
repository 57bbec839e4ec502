package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Closed-loop HTTP load on one predict URL: {@code clients} threads each send {@code warmup}
 * untimed then {@code requests} timed POSTs, one after the other, with the JDK's {@link HttpClient}
 * (HTTP/1.1, one connection per client); every answer must be HTTP 200. Client {@code c}'s request
 * {@code i} is body {@code (c + i) mod n} of the bodies given. {@link #timed} sends one request, for
 * callers that order the requests themselves.
 */
final class HttpLoad {

  /** How long one request may take before the load fails. */
  static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);

  /**
   * The timed requests' latencies and the wall time from the first timed request to the last answer.
   *
   * @param nanos every timed request's latency, sorted
   * @param seconds wall time of the timed part
   */
  record Outcome(long[] nanos, double seconds) {

    /** The {@code q} quantile (nearest rank) in milliseconds. */
    double quantileMs(double q) {
      checkArgument(q > 0 && q <= 1, "quantile must be in (0, 1], got %s", q);
      return nanos[(int) Math.ceil(q * nanos.length) - 1] / 1e6;
    }

    double requestsPerSecond() {
      return nanos.length / seconds;
    }

    /** Median, minimum and maximum latency in milliseconds. */
    Timing.Stats stats() {
      return Timing.Stats.of(Arrays.stream(nanos).mapToDouble(n -> n / 1e6).toArray());
    }

    /** The outcome of requests sent one after the other (any order): their wall time is the sum of their latencies. */
    static Outcome serial(long[] nanos) {
      checkArgument(nanos.length > 0, "no latencies");
      long[] sorted = nanos.clone();
      Arrays.sort(sorted);
      return new Outcome(sorted, Arrays.stream(nanos).sum() / 1e9);
    }
  }

  private HttpLoad() {}

  static Outcome run(URI predict, List<String> bodies, int clients, int warmup, int requests)
      throws IOException, InterruptedException {
    checkNotNull(predict, "predict");
    checkArgument(!bodies.isEmpty(), "no request bodies");
    checkArgument(clients >= 1 && requests >= 1 && warmup >= 0,
        "need clients >= 1, requests >= 1, warmup >= 0; got %s, %s, %s", clients, requests, warmup);
    HttpClient http = client();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    CountDownLatch warm = new CountDownLatch(clients);
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<long[]>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        done.add(pool.submit(() -> {
          try {
            for (int i = 0; i < warmup; i++) {
              send(http, predict, bodies.get((client + i) % bodies.size()));
            }
          } finally {
            warm.countDown();
          }
          go.await();
          long[] nanos = new long[requests];
          for (int i = 0; i < requests; i++) {
            nanos[i] = timed(http, predict, bodies.get((client + warmup + i) % bodies.size()));
          }
          return nanos;
        }));
      }
      warm.await();
      long start = System.nanoTime();
      go.countDown();
      long[] all = new long[0];
      for (Future<long[]> f : done) {
        long[] n = f.get();
        int at = all.length;
        all = Arrays.copyOf(all, at + n.length);
        System.arraycopy(n, 0, all, at, n.length);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Arrays.sort(all);
      return new Outcome(all, seconds);
    } catch (ExecutionException e) {
      throw new IOException("a load client failed: " + e.getCause().getMessage(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** The client {@link #run} gives each load and {@link #timed} expects: HTTP/1.1, 10 s to connect. */
  static HttpClient client() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  }

  /**
   * POSTs {@code body} to {@code predict} and returns the nanoseconds until the whole answer is read.
   *
   * @throws IOException if the answer is not HTTP 200 (its status and the start of its body in the message)
   */
  static long timed(HttpClient http, URI predict, String body) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    send(http, predict, body);
    return System.nanoTime() - t0;
  }

  private static void send(HttpClient http, URI predict, String body) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(predict).timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      String b = r.body();
      throw new IOException("POST " + predict + ": HTTP " + r.statusCode() + " "
          + (b.length() > 300 ? b.substring(0, 300) + "..." : b));
    }
  }
}
