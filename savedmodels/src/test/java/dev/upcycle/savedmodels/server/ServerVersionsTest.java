package dev.upcycle.savedmodels.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.RestPredict;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Versions appearing and disappearing under a served model base: TF Serving's half_plus_two
 * (y = x/2 + 2) and half_plus_three (y = x/2 + 3) stand for two versions, so every answer says which
 * version served it. A half-written version folder (saved_model.pb alone, a missing variables
 * shard, a truncated saved_model.pb, an {@code AtomicFolder} stage, files still changing) is not
 * loaded until complete; the old version is unloaded only when the requests holding it are done;
 * a removed latest version gives way to the next; a version that fails to load is reported and
 * not retried; with background polling, clients see no error while a version is copied in.
 */
class ServerVersionsTest {

  static final String TWO = "tfserving_saved_model_half_plus_two_cpu";
  static final String THREE = "tfserving_saved_model_half_plus_three";
  static final String BODY = "{\"instances\": [1.0]}";

  @TempDir Path tmp;

  private static double answer(TestServers.Running s) throws Exception {
    TestServers.Answer a = s.post("/v1/models/m:predict", BODY);
    assertEquals(200, a.status(), a.body());
    return RestJson.mapper().readTree(a.body()).get("predictions").get(0).asDouble();
  }

  /** {version: state} of the status answer, in its order. */
  private static String states(TestServers.Running s) throws Exception {
    JsonNode status = RestJson.mapper().readTree(s.get("/v1/models/m").body());
    List<String> out = new ArrayList<>();
    for (JsonNode v : status.get("model_version_status")) {
      out.add(v.get("version").asText() + ":" + v.get("state").asText());
    }
    return String.join(" ", out);
  }

  private static long count(List<String> log, String prefix) {
    return log.stream().filter(l -> l.startsWith(prefix)).count();
  }

  @Test
  void halfWrittenVersionsWaitAndOldVersionsDrainBeforeUnloading() throws Exception {
    Path base = tmp.resolve("m");
    Path two = TestServers.versionDir(TWO);
    Path three = TestServers.versionDir(THREE);
    TestServers.copyTree(two, base.resolve("1"));
    try (TestServers.Running s = TestServers.Running.start(TestServers.options("m", base))) {
      assertEquals(2.5, answer(s));
      assertEquals("1:AVAILABLE", states(s));

      // version 2 arrives file by file: saved_model.pb, the index, then the data shard
      Files.createDirectories(base.resolve("2/variables"));
      Files.copy(three.resolve("saved_model.pb"), base.resolve("2/saved_model.pb"));
      s.server().poll();
      s.server().poll();
      assertEquals(2.5, answer(s));
      Files.copy(three.resolve("variables/variables.index"), base.resolve("2/variables/variables.index"));
      s.server().poll();
      assertEquals(2.5, answer(s));
      assertTrue(s.log().stream().anyMatch(l -> l.startsWith("version 2 of model m is not complete yet")
          && l.contains("no variables.data-*-of-* shard")), s.log().toString());
      try (var data = Files.list(three.resolve("variables"))) {
        for (Path f : data.filter(p -> p.getFileName().toString().startsWith("variables.data")).toList()) {
          Files.copy(f, base.resolve("2/variables").resolve(f.getFileName()));
        }
      }
      s.server().poll(); // complete, but changed since the last poll
      assertEquals(2.5, answer(s));
      assertTrue(s.log().stream().anyMatch(l -> l.contains("is still changing")), s.log().toString());
      s.server().poll();
      assertEquals(3.5, answer(s));
      assertEquals("2:AVAILABLE 1:END", states(s));
      assertEquals(1, count(s.log(), "unloaded model m version 1"), s.log().toString());

      // a truncated saved_model.pb is not a version yet
      Files.createDirectories(base.resolve("3"));
      byte[] pb = Files.readAllBytes(three.resolve("saved_model.pb"));
      Files.write(base.resolve("3/saved_model.pb"), java.util.Arrays.copyOf(pb, pb.length / 2));
      s.server().poll();
      s.server().poll();
      assertEquals(3.5, answer(s));
      assertTrue(s.log().stream().anyMatch(l -> l.startsWith("version 3 of model m is not complete yet")
          && l.contains("is not a SavedModel protocol buffer")), s.log().toString());
      AtomicFolder.delete(base.resolve("3"));

      // a request holding version 2 keeps it loaded while version 4, staged by AtomicFolder, takes over
      try (ModelVersions.Handle held = s.server().versions().acquire(OptionalLong.empty())) {
        assertEquals(2, held.version());
        try (AtomicFolder stage = AtomicFolder.stage(base.resolve("4"), false)) {
          Files.delete(stage.path());
          TestServers.copyTree(two, stage.path());
          s.server().poll();
          s.server().poll();
          assertEquals(3.5, answer(s), "a stage is not a version");
          stage.commit();
        }
        s.server().poll();
        s.server().poll();
        assertEquals(2.5, answer(s));
        assertEquals("4:AVAILABLE 2:UNLOADING 1:END", states(s));
        assertEquals("{\"predictions\":[3.5]}", RestPredict.predict(held.model(),
            BODY.getBytes(StandardCharsets.UTF_8), "held"), "the held version still answers");
        assertEquals(0, count(s.log(), "unloaded model m version 2"), s.log().toString());
      }
      assertEquals("4:AVAILABLE 2:END 1:END", states(s));
      assertEquals(1, count(s.log(), "unloaded model m version 2"), s.log().toString());

      // the latest version disappears: the next one is served again
      AtomicFolder.delete(base.resolve("4"));
      s.server().poll();
      assertEquals(3.5, answer(s));
      assertEquals("4:END 2:AVAILABLE 1:END", states(s));

      // a complete version that fails to load is reported once and the served one stays
      TestServers.copyTree(two, base.resolve("5"));
      try (var data = Files.list(base.resolve("5/variables"))) {
        for (Path f : data.filter(p -> p.getFileName().toString().startsWith("variables.data")).toList()) {
          Files.write(f, new byte[1]);
        }
      }
      s.server().poll();
      s.server().poll();
      s.server().poll();
      assertEquals(3.5, answer(s));
      JsonNode five = RestJson.mapper().readTree(s.get("/v1/models/m/versions/5").body()).get("model_version_status")
          .get(0);
      assertEquals("END", five.get("state").asText());
      assertTrue(five.get("status").get("error_message").asText().contains("cannot restore the variables"), five.toString());
      assertEquals(1, count(s.log(), "error: cannot load model m version 5"), s.log().toString());
      AtomicFolder.delete(base.resolve("5"));

      // every version gone: the loaded one keeps serving, and the server says why nothing new loads
      AtomicFolder.delete(base.resolve("1"));
      AtomicFolder.delete(base.resolve("2"));
      s.server().poll();
      assertEquals(3.5, answer(s));
      assertTrue(s.log().stream().anyMatch(l -> l.contains("No versions of servable m found under base path")),
          s.log().toString());
      assertEquals(2, count(s.log(), "loaded model m version 2"), s.log().toString());
    }
  }

  @Test
  void aVersionCopiedInWhileServingCausesNoErrors() throws Exception {
    Path base = tmp.resolve("m");
    TestServers.copyTree(TestServers.versionDir(TWO), base.resolve("1"));
    try (TestServers.Running s = TestServers.Running.start(TestServers.options("m", base).withPollSeconds(1))) {
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<List<Double>>> clients = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        clients.add(pool.submit(() -> {
          List<Double> seen = new ArrayList<>();
          while (!stop.get()) {
            seen.add(answer(s));
          }
          return seen;
        }));
      }
      // a plain copy, not atomic: saved_model.pb first, the variables more than a poll later
      Path three = TestServers.versionDir(THREE);
      Files.createDirectories(base.resolve("2"));
      Files.copy(three.resolve("saved_model.pb"), base.resolve("2/saved_model.pb"));
      Thread.sleep(2500);
      TestServers.copyTree(three.resolve("variables"), base.resolve("2/variables"));
      TestServers.await(() -> {
        try {
          return answer(s) == 3.5;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, () -> "version 2 served; log: " + s.log());
      stop.set(true);
      for (Future<List<Double>> f : clients) {
        List<Double> seen = f.get();
        assertTrue(!seen.isEmpty(), "each client was answered");
        int firstThree = seen.indexOf(3.5);
        for (int i = 0; i < seen.size(); i++) {
          assertEquals(firstThree >= 0 && i >= firstThree ? 3.5 : 2.5, seen.get(i), "answer " + i + " of " + seen);
        }
      }
      pool.shutdownNow();
      assertEquals(1, count(s.log(), "loaded model m version 2"), s.log().toString());
      TestServers.await(() -> count(s.log(), "unloaded model m version 1") == 1, () -> s.log().toString());
    }
  }
}
