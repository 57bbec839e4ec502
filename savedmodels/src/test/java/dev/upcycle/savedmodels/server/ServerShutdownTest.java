package dev.upcycle.savedmodels.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.ServedModel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ModelServer#close()} drains before it closes: a request held in its predict handler when
 * close begins is answered (200, its real answer); one arriving during the drain is refused with
 * UNAVAILABLE (503) at once; the handler is closed only after the held request has finished, and
 * close returns once it has.
 */
class ServerShutdownTest {

  @TempDir Path tmp;

  /** Holds the first request until released; records calls and its close. */
  static final class Held implements PredictHandler {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public String predict(ServedModel model, byte[] body, String source) {
      entered.countDown();
      try {
        assertTrue(release.await(60, TimeUnit.SECONDS), "never released");
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      String answer = PredictHandler.DIRECT.predict(model, body, source);
      events.add("answered");
      return answer;
    }

    @Override
    public void close() {
      events.add("closed");
    }
  }

  @Test
  void aRequestInFlightIsAnsweredBeforeTheHandlerIsClosedAndLateOnesAreRefused() throws Exception {
    Held held = new Held();
    TestServers.Running s = TestServers.Running.start(TestServers.options("hpt",
        TestServers.base("tfserving_saved_model_half_plus_two_cpu", tmp)), held);
    CompletableFuture<TestServers.Answer> first = CompletableFuture.supplyAsync(() -> {
      try {
        return s.post("/v1/models/hpt:predict", "{\"instances\": [1.0, 2.0]}");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertTrue(held.entered.await(60, TimeUnit.SECONDS), "the first request reached the handler");
    CompletableFuture<Void> closing = CompletableFuture.runAsync(s::close);
    TestServers.await(() -> s.server().closing(), () -> "close has not begun");
    TestServers.Answer late = s.post("/v1/models/hpt:predict", "{\"instances\": [3.0]}");
    assertEquals(503, late.status(), late.body());
    assertEquals(ModelServer.SHUTTING_DOWN, RestJson.mapper().readTree(late.body()).get("error").asText());
    assertEquals(List.of(), held.events, "nothing answered or closed while the first request is held");
    held.release.countDown();
    TestServers.Answer answered = first.get(60, TimeUnit.SECONDS);
    assertEquals(200, answered.status(), answered.body());
    assertEquals("{\"predictions\":[2.5,3.0]}", answered.body());
    closing.get(60, TimeUnit.SECONDS);
    assertEquals(List.of("answered", "closed"), held.events);
    assertEquals(0, s.server().inFlight());
  }
}
