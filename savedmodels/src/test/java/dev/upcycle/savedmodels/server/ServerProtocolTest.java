package dev.upcycle.savedmodels.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.savedmodels.SavedModelFile;
import dev.upcycle.savedmodels.rest.RestJson;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.SignatureDef;

/**
 * The server's HTTP side on TF Serving's half_plus_two: model status and metadata in TF Serving's
 * JSON, unknown models and versions, malformed paths and methods answered as TF Serving answers
 * them (the cases of its {@code http_rest_api_handler_test.cc}), the body limit, a stalled client
 * that does not block others, and a storm of malformed requests that leaves the server serving.
 */
class ServerProtocolTest {

  static final String FIXTURE = "tfserving_saved_model_half_plus_two_cpu";
  static final String NAME = "half_plus_two";
  static final String PREDICT = "/v1/models/" + NAME + ":predict";
  static final long BODY_LIMIT = 4096;

  static TestServers.Running s;

  @BeforeAll
  static void start() throws Exception {
    s = TestServers.Running.start(TestServers.options(NAME, Fixtures.fixture(FIXTURE)).withBodyLimitBytes(BODY_LIMIT)
        .withThreads(3));
  }

  @AfterAll
  static void stop() {
    if (s != null) {
      s.close();
    }
  }

  private static JsonNode json(String body) throws Exception {
    return RestJson.mapper().readTree(body);
  }

  private static void assertError(TestServers.Answer a, int status, String contains) throws Exception {
    assertEquals(status, a.status(), a.body());
    JsonNode e = json(a.body());
    assertEquals(1, e.size(), a.body());
    assertTrue(e.get("error").asText().contains(contains), "expected '" + contains + "' in " + a.body());
  }

  @Test
  void modelStatusIsTfServingsJson() throws Exception {
    // http_rest_api_handler_test.cc GetStatus, with this fixture's version 123
    JsonNode expected = json("{\"model_version_status\": [{\"version\": \"123\", \"state\": \"AVAILABLE\","
        + " \"status\": {\"error_code\": \"OK\", \"error_message\": \"\"}}]}");
    TestServers.Answer all = s.get("/v1/models/" + NAME);
    assertEquals(200, all.status(), all.body());
    assertEquals("application/json", all.contentType());
    assertEquals(expected, json(all.body()));
    assertEquals(expected, json(s.get("/v1/models/" + NAME + "/versions/123").body()));
    assertError(s.get("/v1/models/" + NAME + "/versions/7"), 404, "Could not find version 7 of model " + NAME);
    assertError(s.get("/v1/models/foo"), 404, "Could not find any versions of model foo");
    assertError(s.get("/v1/models"), 400, "Missing model name in request.");
  }

  @Test
  void metadataIsTfServingsJson() throws Exception {
    TestServers.Answer a = s.get("/v1/models/" + NAME + "/metadata");
    assertEquals(200, a.status(), a.body());
    JsonNode got = json(a.body());
    // TF Serving's expected answer for the same half_plus_two graph (its handler test), ours under our name
    JsonNode tfServing = json(Files.readString(Fixtures.fixture(
        "tfserving_model_metadata/saved_model_half_plus_two_2_versions_metadata.json")));
    ObjectNode spec = ((ObjectNode) tfServing.get("model_spec").deepCopy()).put("name", NAME);
    assertEquals(spec, got.get("model_spec"));
    JsonNode ours = got.get("metadata").get("signature_def").get("signature_def");
    JsonNode theirs = tfServing.get("metadata").get("signature_def").get("signature_def");
    Map<String, SignatureDef> declared = SavedModelFile.serveGraph(SavedModelFile.read(
        TestServers.versionDir(FIXTURE)), TestServers.versionDir(FIXTURE)).getSignatureDefMap();
    List<String> names = new ArrayList<>();
    ours.fieldNames().forEachRemaining(names::add);
    assertEquals(new TreeSet<>(declared.keySet()), new TreeSet<>(names));
    for (String n : names) {
      assertEquals(theirs.get(n), ours.get(n), "signature " + n);
    }
    assertEquals(got, json(s.get("/v1/models/" + NAME + "/versions/123/metadata").body()));
    assertError(s.get("/v1/models/" + NAME + "/versions/9/metadata"), 404,
        "Servable not found for request: Specific(" + NAME + ", 9)");
  }

  @Test
  void unknownModelsAndVersionsAreNotFound() throws Exception {
    String body = "{\"instances\": [1.0]}";
    // http_rest_api_handler_test.cc PredictModelNameVersionErrors
    assertError(s.post("/v1/models/foo:predict", body), 404, "Servable not found for request: Latest(foo)");
    assertError(s.post("/v1/models/foo/versions/50:predict", body), 404,
        "Servable not found for request: Specific(foo, 50)");
    assertError(s.post("/v1/models/" + NAME + "/versions/99:predict", body), 404,
        "Servable not found for request: Specific(" + NAME + ", 99)");
    assertEquals("{\"predictions\":[2.5]}", s.post("/v1/models/" + NAME + "/versions/123:predict", body).body());
    assertEquals("{\"predictions\":[2.5]}", s.post("/V1/MODELS/" + NAME + ":predict", body).body(),
        "TF Serving matches paths case-insensitively");
    assertEquals("{\"predictions\":[2.5]}", s.post("/v1/models/half%5Fplus_two:predict", body).body(),
        "the model name is percent-decoded");
    assertError(s.post("/v1/models/" + NAME + "/labels/stable:predict", body), 400,
        "Unrecognized servable version label: stable");
  }

  @Test
  void malformedPathsAndMethodsAreAnsweredAsTfServingAnswers() throws Exception {
    // http_rest_api_handler_test.cc UnsupportedApiCalls
    String[][] malformed = {
      {"GET", "/v1/foo"}, {"POST", "/v1/foo"}, {"GET", "/v1/models/debug/model_name"}, {"POST", "/v1/models"},
      {"GET", "/v1/models/foo:predict"}, {"GET", "/v1/models/foo/version/50:predict"},
      {"POST", "/v1/models/foo/version/50:regress"}, {"POST", "/v1/models/foo/versions/HELLO:regress"},
      {"POST", "/v1/models/foo/metadata"}, {"POST", "/v1/models/foo/label/some_label:regress"},
      {"POST", "/v1/models/foo/versions/50/labels/some_label:regress"},
      {"POST", "/v1/models/foo/versions/some_label:regress"}, {"PUT", PREDICT}, {"DELETE", "/v1/models/" + NAME},
      {"POST", "/v1/models/" + NAME + ":PREDICT"},
    };
    for (String[] m : malformed) {
      TestServers.Answer a = s.send(HttpRequest.newBuilder(s.uri(m[1])).method(m[0],
          HttpRequest.BodyPublishers.ofString("{}")));
      assertError(a, 400, "Malformed request: " + m[0] + " " + m[1]);
    }
    assertError(s.post("/v1/models/foo/versions/18446744073709551615:regress", ""), 400,
        "Failed to convert version: 18446744073709551615 to numeric.");
    assertError(s.post("/v1/models/" + NAME + ":classify", "{}"), 501, "not served by upcycle serve");
    TestServers.Answer outside = s.get("/metrics");
    assertEquals(404, outside.status(), "a path outside /v1/ has no handler in TF Serving");
    assertError(s.send(HttpRequest.newBuilder(s.uri(PREDICT)).method("OPTIONS", HttpRequest.BodyPublishers.noBody())),
        400, "Origin header is missing in CORS preflight");
  }

  @Test
  void aBodyOverTheLimitIs413() throws Exception {
    StringBuilder big = new StringBuilder("{\"instances\": [");
    while (big.length() < BODY_LIMIT + 100) {
      big.append("1.0, ");
    }
    big.append("1.0]}");
    assertError(s.post(PREDICT, big.toString()), 413, "larger than the server's limit of " + BODY_LIMIT + " bytes");
    assertTrue(s.log().stream().anyMatch(l -> l.contains(": 413, Request body of")), s.log().toString());
    // chunked, no Content-Length: counted while read
    TestServers.Answer chunked = s.send(HttpRequest.newBuilder(s.uri(PREDICT)).POST(HttpRequest.BodyPublishers
        .ofInputStream(() -> new java.io.ByteArrayInputStream(big.toString().getBytes(StandardCharsets.UTF_8)))));
    assertError(chunked, 413, "more than " + BODY_LIMIT);
    assertEquals("{\"predictions\":[2.5]}", s.post(PREDICT, "{\"instances\": [1.0]}").body());
  }

  @Test
  void aStalledClientDoesNotBlockOthersAndIsCutOffAfterTheReadTimeout() throws Exception {
    try (Socket stalled = new Socket("127.0.0.1", s.server().port())) {
      stalled.setSoTimeout(60_000); // fails the test rather than hanging if the server never closes it
      OutputStream out = stalled.getOutputStream();
      out.write(("POST " + PREDICT + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
          + "{\"instances\": [1.0,").getBytes(StandardCharsets.UTF_8));
      out.flush();
      // the stalled request holds one of the 3 threads; others are answered meanwhile
      for (int i = 0; i < 20; i++) {
        assertEquals("{\"predictions\":[" + (i / 2.0 + 2) + "]}", s.post(PREDICT, "{\"instances\": [" + i + ".0]}").body());
      }
      InputStream in = stalled.getInputStream();
      byte[] rest = in.readAllBytes(); // the server closes the connection after the read timeout
      assertFalse(new String(rest, StandardCharsets.UTF_8).contains("predictions"), "the half body got no answer");
    }
    TestServers.await(() -> s.log().stream().anyMatch(l -> l.contains("connection failed or timed out")),
        () -> "a log line for the stalled client in " + s.log());
    assertEquals("{\"predictions\":[2.5]}", s.post(PREDICT, "{\"instances\": [1.0]}").body());
  }

  @Test
  void aStormOfMalformedRequestsLeavesTheServerServing() throws Exception {
    String[] bad = {"", "{", "instances = [1, 2]", "{\"instances\": [\"x\"]}", "{\"inputs\": [1.0], \"instances\": [1.0]}",
      "{\"instances\": [[1.0], [1.0, 2.0]]}", "\u00ff\u00fe", "{\"signature_name\": \"nope\", \"instances\": [1.0]}",
      "{\"instances\": [" + "[".repeat(300) + "]}", "[1, 2, 3]", "null", "{\"instances\": []}"};
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int c = 0; c < 8; c++) {
        int client = c;
        results.add(pool.submit(() -> {
          for (int i = 0; i < 40; i++) {
            if ((i + client) % 3 == 0) {
              int x = client * 100 + i;
              TestServers.Answer ok = s.post(PREDICT, "{\"instances\": [" + x + ".0]}");
              assertEquals(200, ok.status(), ok.body());
              assertEquals(x / 2.0 + 2, json(ok.body()).get("predictions").get(0).asDouble());
            } else {
              TestServers.Answer a = s.post(PREDICT, bad[(i * 7 + client) % bad.length]);
              assertEquals(400, a.status(), a.body());
              assertTrue(json(a.body()).get("error").isTextual(), a.body());
            }
          }
          return "done";
        }));
      }
      for (Future<String> f : results) {
        assertEquals("done", f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals("{\"predictions\":[2.5]}", s.post(PREDICT, "{\"instances\": [1.0]}").body());
    TestServers.await(() -> s.server().inFlight() == 0, () -> s.server().inFlight() + " requests in flight");
  }
}
