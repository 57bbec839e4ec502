package dev.upcycle.savedmodels.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.TfCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every request of {@code testdata/tfserving_rest_examples/examples.json} (TF Serving's documented
 * examples and its tests' request/answer pairs, on TF Serving's and TF Java's SavedModels) sent to
 * {@link ModelServer} with the JDK's {@code HttpClient}: TF Serving's answer with HTTP 200, or its
 * {@code {"error": ...}} body with the HTTP status of the TensorFlow code. (The library call and
 * the CLI run the same table: {@code TfServingExamplesTest}, {@code PredictExamplesCliTest}.)
 */
class ServerExamplesTest {

  @TempDir Path tmp;

  @Test
  void everyExampleThroughTheServer() throws Exception {
    JsonNode table = RestJson.mapper().readTree(Files.readString(Fixtures.fixture(
        "tfserving_rest_examples/examples.json")));
    Map<String, List<JsonNode>> byModel = new LinkedHashMap<>();
    for (JsonNode e : table.get("examples")) {
      byModel.computeIfAbsent(e.get("model").asText(), k -> new ArrayList<>()).add(e);
    }
    int n = 0;
    for (Map.Entry<String, List<JsonNode>> m : byModel.entrySet()) {
      String name = "m" + n;
      try (TestServers.Running s = TestServers.Running.start(TestServers.options(name,
          TestServers.base(m.getKey(), tmp)))) {
        for (JsonNode e : m.getValue()) {
          n++;
          String what = e.get("model").asText() + ": " + e.get("body").asText() + " (" + e.get("source").asText() + ")";
          TestServers.Answer a = s.post("/v1/models/" + name + ":predict", e.get("body").asText());
          assertEquals("application/json", a.contentType(), what);
          if (e.has("error")) {
            TfCode code = TfCode.valueOf(e.get("error").get("code").asText());
            assertEquals(code.httpStatus(), a.status(), what + ": " + a.body());
            JsonNode error = RestJson.mapper().readTree(a.body());
            assertEquals(1, error.size(), what + ": the body is {\"error\": ...} alone: " + a.body());
            for (JsonNode c : e.get("error").get("contains")) {
              assertTrue(error.get("error").asText().contains(c.asText()), what + ": expected '" + c.asText()
                  + "' in " + a.body());
            }
          } else {
            assertEquals(200, a.status(), what + ": " + a.body());
            if (e.has("response_text")) {
              assertEquals(e.get("response_text").asText(), a.body(), what);
            } else {
              assertEquals(e.get("response"), RestJson.mapper().readTree(a.body()), what);
            }
          }
        }
        assertTrue(s.log().stream().anyMatch(l -> l.startsWith("loaded model " + name + " version ")), s.log().toString());
      }
    }
    assertTrue(n >= 20, "the table has " + n + " examples");
  }
}
