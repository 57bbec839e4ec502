package dev.upcycle.savedmodels.rest.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.savedmodels.ServingVersions;
import dev.upcycle.savedmodels.rest.ExampleRequests;
import dev.upcycle.savedmodels.rest.HostTensor;
import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.RestPredict;
import dev.upcycle.savedmodels.rest.ServedModel;
import dev.upcycle.savedmodels.rest.TfCode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link BatchingPredictor} on TF Serving's own SavedModels: under 32 concurrent clients every
 * answer equals the unbatched {@link RestPredict} answer and fewer runs than requests are made;
 * batches form and flush as TF Serving's scheduler forms them (full, timeout, close), a full queue
 * is refused at once with RESOURCE_EXHAUSTED, a run's error reaches every request of its batch, and
 * requests that cannot be merged are not. Waits are bounded ({@link #WAIT_SECONDS}); nothing is
 * asserted on time.
 */
class BatchingPredictorTest {

  /** A bound on every wait, so that a scheduler that never answers fails the test instead of hanging it. */
  static final long WAIT_SECONDS = 120;
  /** A timeout no test reaches: batches then run only when full or on close. */
  static final long NEVER_MICROS = TimeUnit.HOURS.toMicros(1);

  private static ServedModel halfPlusTwo;
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeAll
  static void load() throws Exception {
    halfPlusTwo = ServedModel.load(ServingVersions.resolve(
        Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu")));
  }

  @AfterAll
  static void unload() {
    if (halfPlusTwo != null) {
      halfPlusTwo.close();
    }
  }

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  static BatchingParameters params(long maxBatch, long timeoutMicros, long maxEnqueued, int threads,
      List<Long> allowed) {
    return new BatchingParameters(maxBatch, timeoutMicros, maxEnqueued, threads, "test_batch_threads", allowed, false,
        false, 0);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** {@code n} values as JSON numbers, each its own row ({@code [v]}) when {@code nested}. */
  static String rows(int n, double first, boolean nested) {
    return IntStream.range(0, n).mapToObj(k -> nested ? "[" + (first + k / 8.0) + "]" : "" + (first + k / 8.0))
        .collect(Collectors.joining(", ", "[", "]"));
  }

  /**
   * Request {@code i} of client {@code c}: 1 to 5 rows, row or columnar format, [n] or [n, 1]; every
   * 10th is malformed (ragged, a string, not JSON).
   */
  static String request(int c, int i) {
    int n = 1 + (c * 7 + i) % 5;
    double first = c * 100 + i;
    if (i % 10 == 9) {
      return switch (c % 3) {
        case 0 -> "{\"instances\": [[1.0], [2.0, 3.0]]}";
        case 1 -> "{\"instances\": [1.0, \"x\"]}";
        default -> "{\"instances\": [1.0";
      };
    }
    return switch ((c + i) % 3) {
      case 0 -> "{\"instances\": " + rows(n, first, false) + "}";
      case 1 -> "{\"instances\": " + rows(n, first, true) + "}";
      default -> "{\"inputs\": " + rows(n, first, true) + "}";
    };
  }

  <T> Future<T> async(Callable<T> call) {
    return pool.submit(call);
  }

  static <T> T get(Future<T> f) throws Exception {
    return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** Waits until {@code n} requests are queued. */
  static void awaitWaiting(BatchingPredictor p, long n) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (p.waiting() < n) {
      assertTrue(System.nanoTime() < end, "never " + n + " waiting: " + p.waiting());
      Thread.sleep(2);
    }
  }

  @Test
  void thirtyTwoClientsGetTheUnbatchedAnswersFromFewerRunsAmidMalformedRequests() throws Exception {
    int clients = 32;
    int each = 50;
    CountDownLatch start = new CountDownLatch(1);
    try (BatchingPredictor p = BatchingPredictor.start(params(16, 2000, 1000, 2, List.of()))) {
      List<Future<Integer>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        done.add(async(() -> {
          start.await();
          int answered = 0;
          for (int i = 0; i < each; i++) {
            byte[] body = utf8(request(client, i));
            String batched = answer(() -> p.predict(halfPlusTwo, body, "request.json"));
            assertEquals(answer(() -> RestPredict.predict(halfPlusTwo, body, "request.json")), batched,
                request(client, i));
            answered++;
          }
          return answered;
        }));
      }
      start.countDown();
      int answered = 0;
      for (Future<Integer> f : done) {
        answered += get(f);
      }
      assertEquals(clients * each, answered, "no request lost");
      BatchingPredictor.Stats s = p.stats();
      assertEquals(clients * each * 9 / 10, s.requests(), "the malformed ones are refused before batching");
      assertEquals(0, s.rejected());
      assertTrue(s.runs() < s.requests(), "batching happened: " + s);
      assertTrue(s.batchedRuns() > 0, s.toString());
      assertTrue(s.largestBatchRows() <= 16, s.toString());
    }
  }

  /**
   * Every request of TF Serving's example table but two kinds whose answers batching changes, in TF
   * Serving too: the counter's (stateful: answers depend on order) and {@code get_const_matrix}'s
   * (zeros {@code [2,3]} + x: its rows are not one per input row, so merged requests broadcast
   * differently or fail).
   */
  @Test
  void everyTfServingExampleGetsItsUnbatchedAnswerUnderConcurrency() throws Exception {
    List<String[]> examples = new ArrayList<>();
    for (String[] e : ExampleRequests.all()) {
      if (!e[0].equals("tfserving_saved_model_counter") && !e[1].contains("get_const_matrix")) {
        examples.add(e);
      }
    }
    assertTrue(examples.size() >= 20, "the table has its examples: " + examples.size());
    for (String model : examples.stream().map(e -> e[0]).distinct().toList()) {
      List<String> bodies = examples.stream().filter(e -> e[0].equals(model)).map(e -> e[1]).toList();
      try (ServedModel m = ServedModel.load(ServingVersions.resolve(Fixtures.fixture(model)));
          BatchingPredictor p = BatchingPredictor.start(params(8, 3000, 100, 2, List.of()))) {
        List<String> expected = bodies.stream().map(b -> answer(() -> RestPredict.predict(m, utf8(b), "t"))).toList();
        List<Future<Integer>> clients = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
          int shift = c;
          clients.add(async(() -> {
            int checked = 0;
            for (int round = 0; round < 3; round++) {
              for (int k = 0; k < bodies.size(); k++) {
                int i = (k + shift) % bodies.size();
                assertEquals(expected.get(i), answer(() -> p.predict(m, utf8(bodies.get(i)), "t")),
                    model + ": " + bodies.get(i));
                checked++;
              }
            }
            return checked;
          }));
        }
        for (Future<Integer> f : clients) {
          assertEquals(3 * bodies.size(), get(f));
        }
      }
    }
  }

  /** The answer, or the error's code and message. */
  static String answer(Callable<String> call) {
    try {
      return call.call();
    } catch (RestError e) {
      return e.status();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aStatefulSignatureWithAScalarInputRunsAloneInOrder() throws Exception {
    try (ServedModel counter = ServedModel.load(ServingVersions.resolve(Fixtures.fixture(
        "tfserving_saved_model_counter")));
        BatchingPredictor p = BatchingPredictor.start(params(8, NEVER_MICROS, 10, 1, List.of()))) {
      byte[] incr = utf8("{\"signature_name\": \"incr_counter_by\", \"inputs\": 3}");
      assertEquals("{\"outputs\":3.0}", p.predict(counter, incr, "a"));
      assertEquals("{\"outputs\":6.0}", p.predict(counter, incr, "b"));
      assertEquals(0, p.stats().batchedRuns());
      assertEquals(2, p.stats().runs());
    }
  }

  @Test
  void aFullBatchRunsAtOnceAndEachAnswerKeepsItsRequestsFormat() throws Exception {
    List<String> bodies = List.of("{\"instances\": [[1.0]]}", "{\"inputs\": [[2.0], [3.0]]}",
        "{\"instances\": [[4.0]]}");
    try (BatchingPredictor p = BatchingPredictor.start(params(4, NEVER_MICROS, 10, 1, List.of()))) {
      List<Future<String>> answers = new ArrayList<>();
      for (String b : bodies) {
        answers.add(async(() -> p.predict(halfPlusTwo, utf8(b), "t")));
      }
      assertEquals("{\"predictions\":[[2.5]]}", get(answers.get(0)));
      assertEquals("{\"outputs\":[[3.0],[3.5]]}", get(answers.get(1)));
      assertEquals("{\"predictions\":[[4.0]]}", get(answers.get(2)));
      assertEquals(1, p.stats().runs(), "4 rows fill the batch: one run, without waiting for the timeout");
      assertEquals(1, p.stats().batchedRuns());
      assertEquals(4, p.stats().largestBatchRows());
    }
  }

  @Test
  void aSingleRequestRunsWhenTheTimeoutExpires() throws Exception {
    try (BatchingPredictor p = BatchingPredictor.start(params(8, 20_000, 10, 1, List.of()))) {
      assertEquals("{\"predictions\":[2.5,3.0]}", get(async(() -> p.predict(halfPlusTwo,
          utf8("{\"instances\": [1.0, 2.0]}"), "t"))));
      assertEquals(1, p.stats().runs());
    }
  }

  @Test
  void closeRunsWhatIsQueuedThenRefuses() throws Exception {
    BatchingPredictor p = BatchingPredictor.start(params(8, NEVER_MICROS, 10, 1, List.of()));
    Future<String> a = async(() -> p.predict(halfPlusTwo, utf8("{\"instances\": [1.0]}"), "a"));
    Future<String> b = async(() -> p.predict(halfPlusTwo, utf8("{\"inputs\": [5.0, 6.0]}"), "b"));
    awaitWaiting(p, 2);
    p.close();
    assertEquals("{\"predictions\":[2.5]}", get(a));
    assertEquals("{\"outputs\":[4.5,5.0]}", get(b));
    assertEquals(1, p.stats().runs(), "merged into one run");
    RestError closed = assertThrows(RestError.class, () -> p.predict(halfPlusTwo, utf8("{\"inputs\": [1.0]}"), "c"));
    assertEquals(TfCode.UNAVAILABLE, closed.code());
  }

  @Test
  void aFullQueueIsRefusedAtOnceWithResourceExhausted() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Runner held = held(running, release);
    try (BatchingPredictor p = BatchingPredictor.start(params(1, 0, 1, 1, List.of()), held)) {
      Future<String> first = async(() -> p.predict(halfPlusTwo, utf8("{\"instances\": [1.0]}"), "1"));
      assertTrue(running.await(WAIT_SECONDS, TimeUnit.SECONDS));
      Future<String> second = async(() -> p.predict(halfPlusTwo, utf8("{\"instances\": [2.0]}"), "2"));
      awaitWaiting(p, 1);
      RestError full = assertThrows(RestError.class,
          () -> p.predict(halfPlusTwo, utf8("{\"instances\": [3.0]}"), "3"));
      assertEquals(TfCode.RESOURCE_EXHAUSTED, full.code());
      assertEquals(429, full.httpStatus());
      assertEquals("The batch scheduling queue to which this task was submitted is full; currently 1 batches"
          + " enqueued and max_enqueued_batches is 1", full.getMessage());
      release.countDown();
      assertEquals("{\"predictions\":[2.5]}", get(first));
      assertEquals("{\"predictions\":[3.0]}", get(second));
      assertEquals(1, p.stats().rejected());
    }
  }

  @Test
  void aRequestLargerThanMaxBatchSizeIsRefusedAsTfServingRefusesIt() {
    try (BatchingPredictor p = BatchingPredictor.start(params(4, 0, 10, 1, List.of()))) {
      RestError e = assertThrows(RestError.class, () -> p.predict(halfPlusTwo, utf8("{\"instances\": "
          + rows(5, 1, false) + "}"), "t"));
      assertEquals(TfCode.INVALID_ARGUMENT, e.code());
      assertEquals("Task size 5 is larger than maximum input batch size 4", e.getMessage());
      assertEquals("{\"predictions\":[2.5,2.5625,2.625,2.6875]}", p.predict(halfPlusTwo, utf8("{\"instances\": "
          + rows(4, 1, false) + "}"), "t"));
    }
  }

  @Test
  void theErrorOfAMergedRunReachesEveryRequestInIt() throws Exception {
    Runner failing = (model, signature, inputs) -> {
      throw new RestError(TfCode.INVALID_ARGUMENT, "refused " + Arrays.toString(inputs.values().iterator().next()
          .shape()));
    };
    try (BatchingPredictor p = BatchingPredictor.start(params(3, NEVER_MICROS, 10, 1, List.of()), failing)) {
      Future<String> a = async(() -> p.predict(halfPlusTwo, utf8("{\"instances\": [1.0]}"), "a"));
      Future<String> b = async(() -> p.predict(halfPlusTwo, utf8("{\"instances\": [2.0, 3.0]}"), "b"));
      for (Future<String> f : List.of(a, b)) {
        Exception e = assertThrows(java.util.concurrent.ExecutionException.class, () -> get(f));
        RestError error = (RestError) e.getCause();
        assertEquals(TfCode.INVALID_ARGUMENT, error.code());
        assertEquals("refused [3]", error.getMessage(), "the merged run of 3 rows");
      }
      assertEquals(1, p.stats().runs());
    }
  }

  static BatchingParameters splitting(long maxBatch, long timeoutMicros, long maxEnqueued, long maxExecution) {
    return new BatchingParameters(maxBatch, timeoutMicros, maxEnqueued, 1, "test_batch_threads", List.of(), false,
        true, maxExecution);
  }

  @Test
  void withSplittingALargeRequestFillsTheOpenBatchAndTheRestGoesToNewOnes() throws Exception {
    Recording runs = new Recording();
    BatchingPredictor p = BatchingPredictor.start(splitting(10, NEVER_MICROS, 10, 4), runs);
    String one = "{\"instances\": [1.0]}";
    String ten = "{\"instances\": " + rows(10, 3, false) + "}";
    Future<String> a = async(() -> p.predict(halfPlusTwo, utf8(one), "a"));
    awaitWaiting(p, 1);
    Future<String> b = async(() -> p.predict(halfPlusTwo, utf8(ten), "b"));
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (runs.shapes.size() < 2) { // the two full batches run; the last 3 rows wait for their timeout
      assertTrue(System.nanoTime() < end, "runs: " + runs.shapes);
      Thread.sleep(2);
    }
    p.close();
    assertEquals("{\"predictions\":[2.5]}", get(a));
    assertEquals(RestPredict.predict(halfPlusTwo, utf8(ten), "u"), get(b), "put back together");
    assertEquals(List.of("[4]", "[4]", "[3]"), runs.shapes, "1 + 3 rows, 4 rows, 3 rows");
  }

  @Test
  void withSplittingARequestLargerThanTheQueuesFreeRowsIsRefused() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Runner held = held(running, release);
    try (BatchingPredictor p = BatchingPredictor.start(splitting(10, 0, 2, 4), held)) {
      String four = "{\"instances\": " + rows(4, 1, false) + "}";
      String eight = "{\"instances\": " + rows(8, 2, false) + "}";
      Future<String> first = async(() -> p.predict(halfPlusTwo, utf8(four), "4"));
      assertTrue(running.await(WAIT_SECONDS, TimeUnit.SECONDS));
      RestError full = assertThrows(RestError.class, () -> p.predict(halfPlusTwo, utf8("{\"instances\": "
          + rows(10, 1, false) + "}"), "10"));
      assertEquals(TfCode.RESOURCE_EXHAUSTED, full.code());
      assertEquals("The batch scheduling queue to which this task was submitted is full; task size is 10 but"
          + " scheduling capacity is only 8 (num_enqueued_batches=1, max_enqueued_batches=2, open_batch_size=0,"
          + " max_execution_batch_size=4)", full.getMessage());
      Future<String> second = async(() -> p.predict(halfPlusTwo, utf8(eight), "8"));
      awaitWaiting(p, 2);
      release.countDown();
      assertEquals(RestPredict.predict(halfPlusTwo, utf8(four), "u"), get(first));
      assertEquals(RestPredict.predict(halfPlusTwo, utf8(eight), "u"), get(second));
      RestError tooLarge = assertThrows(RestError.class, () -> p.predict(halfPlusTwo, utf8("{\"instances\": "
          + rows(11, 1, false) + "}"), "11"));
      assertEquals("Task size 11 is larger than maximum input batch size 10", tooLarge.getMessage());
    }
  }

  @Test
  void aRequestRefusedByANewQueueLeavesNothingBehindAndCloseReturns() throws Exception {
    BatchingPredictor p = BatchingPredictor.start(splitting(10, NEVER_MICROS, 1, 4));
    RestError full = assertThrows(RestError.class, () -> p.predict(halfPlusTwo, utf8("{\"instances\": "
        + rows(10, 1, false) + "}"), "10"));
    assertTrue(full.getMessage().contains("task size is 10 but scheduling capacity is only 4"), full.getMessage());
    assertEquals(0, p.waiting());
    get(async(() -> {
      p.close();
      return true;
    }));
  }

  /** A runner that records the shape of the (first) input of every run. */
  static final class Recording implements Runner {
    final List<String> shapes = Collections.synchronizedList(new ArrayList<>());

    @Override
    public SortedMap<String, HostTensor> run(ServedModel model, String signature, SortedMap<String, HostTensor> in) {
      shapes.add(Arrays.toString(in.values().iterator().next().shape()));
      return model.run(signature, in);
    }
  }

  @Test
  void batchesArePaddedToAnAllowedSizeAndThePaddingDropped() throws Exception {
    Recording runs = new Recording();
    BatchingPredictor p = BatchingPredictor.start(params(4, NEVER_MICROS, 10, 1, List.of(2L, 4L)), runs);
    String three = "{\"instances\": " + rows(3, 1, true) + "}";
    String two = "{\"inputs\": " + rows(2, 7, true) + "}";
    Future<String> a = async(() -> p.predict(halfPlusTwo, utf8(three), "a"));
    awaitWaiting(p, 1);
    Future<String> b = async(() -> p.predict(halfPlusTwo, utf8(two), "b")); // does not fit: closes a's batch
    assertEquals(RestPredict.predict(halfPlusTwo, utf8(three), "u"), get(a));
    awaitWaiting(p, 1);
    p.close();
    assertEquals(RestPredict.predict(halfPlusTwo, utf8(two), "u"), get(b));
    assertEquals(List.of("[4, 1]", "[2, 1]"), runs.shapes, "3 rows padded to 4; 2 rows are an allowed size");
  }

  @Test
  void requestsOfDifferentInnerShapesOrSignaturesAreNotMerged() throws Exception {
    Recording runs = new Recording();
    BatchingPredictor p = BatchingPredictor.start(params(8, NEVER_MICROS, 10, 1, List.of()), runs);
    List<String> bodies = List.of("{\"instances\": [[1.0]]}", "{\"instances\": [[1.0, 2.0]]}",
        "{\"instances\": [1.0]}", "{\"signature_name\": \"regress_x2_to_y3\", \"instances\": [[1.0]]}",
        "{\"instances\": [[3.0]]}");
    List<Future<String>> answers = new ArrayList<>();
    for (String b : bodies) {
      answers.add(async(() -> p.predict(halfPlusTwo, utf8(b), "t")));
    }
    awaitWaiting(p, bodies.size());
    p.close();
    for (int i = 0; i < bodies.size(); i++) {
      String body = bodies.get(i);
      Future<String> answer = answers.get(i);
      assertEquals(RestPredict.predict(halfPlusTwo, utf8(body), "u"), get(answer), body);
    }
    List<String> shapes = new ArrayList<>(runs.shapes);
    Collections.sort(shapes);
    assertEquals(List.of("[1, 1]", "[1, 2]", "[1]", "[2, 1]"), shapes,
        "only the two [1, 1] requests of serving_default merge");
  }

  @Test
  void anOutputNotBatchedAlongDimensionZeroMakesEachRequestRunAlone() throws Exception {
    // The runner adds a constant output [2], as a graph might: a merged run's outputs cannot be cut per request
    Runner constantOutput = (model, signature, inputs) -> {
      SortedMap<String, HostTensor> out = new java.util.TreeMap<>(model.run(signature, inputs));
      out.put("z", HostTensor.ofFloats(new long[] {2}, 7f, 8f));
      return out;
    };
    try (BatchingPredictor p = BatchingPredictor.start(params(3, NEVER_MICROS, 10, 1, List.of()), constantOutput)) {
      Future<String> a = async(() -> p.predict(halfPlusTwo, utf8("{\"inputs\": [1.0]}"), "a"));
      Future<String> b = async(() -> p.predict(halfPlusTwo, utf8("{\"inputs\": [2.0, 3.0]}"), "b"));
      assertEquals("{\"outputs\":{\"y\":[2.5],\"z\":[7.0,8.0]}}", get(a));
      assertEquals("{\"outputs\":{\"y\":[3.0,3.5],\"z\":[7.0,8.0]}}", get(b));
      assertEquals(3, p.stats().runs(), "the merged run, then each request alone");
      assertEquals("{\"outputs\":{\"y\":[3.0],\"z\":[7.0,8.0]}}",
          p.predict(halfPlusTwo, utf8("{\"inputs\": [2.0]}"), "c"));
      assertEquals(4, p.stats().runs(), "the signature now runs alone without waiting");
      assertEquals(0, p.waiting());
    }
  }

  @Test
  void aRequestRefusedBeforeBatchingIsRefusedAsUnbatched() {
    try (BatchingPredictor p = BatchingPredictor.start(params(8, 0, 10, 1, List.of()))) {
      for (String bad : List.of("", "{\"instances\": [\"x\"]}",
          "{\"signature_name\": \"nope\", \"instances\": [1.0]}")) {
        assertEquals(answer(() -> RestPredict.predict(halfPlusTwo, utf8(bad), "t")),
            answer(() -> p.predict(halfPlusTwo, utf8(bad), "t")), bad);
      }
      assertEquals(0, p.stats().runs(), "refused before any run");
    }
  }

  /** A runner that signals {@code running} and waits for {@code release} before it runs the model. */
  private static Runner held(CountDownLatch running, CountDownLatch release) {
    return (model, signature, inputs) -> {
      running.countDown();
      try {
        assertTrue(release.await(WAIT_SECONDS, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      return model.run(signature, inputs);
    };
  }
}
