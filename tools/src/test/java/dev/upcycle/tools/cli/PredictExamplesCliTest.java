package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/upcycle predict} answers every request of {@code testdata/tfserving_rest_examples/examples.json}
 * (TF Serving's documented examples and its tests' request/answer pairs, on TF Serving's and TF
 * Java's SavedModels) with TF Serving's answer on stdout and exit 0, or TF Serving's
 * {@code {"error": ...}} body on stdout, the TensorFlow code and HTTP status on stderr and exit 1.
 * (The library call runs the same table: {@code TfServingExamplesTest} in savedmodels.)
 */
class PredictExamplesCliTest {

  @TempDir Path tmp;

  @Test
  void everyExampleThroughTheCli() throws Exception {
    JsonNode table = RestJson.mapper().readTree(Files.readString(Fixtures.fixture(
        "tfserving_rest_examples/examples.json")));
    int n = 0;
    for (JsonNode e : table.get("examples")) {
      String what = e.get("model").asText() + ": " + e.get("body").asText() + " (" + e.get("source").asText() + ")";
      Path request = Files.writeString(tmp.resolve("request-" + n++ + ".json"), e.get("body").asText());
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = Main.execute(new String[] {"predict", "--model", Fixtures.fixture(e.get("model").asText()).toString(),
          "--request", request.toString()}, new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
      String body = out.toString().strip();
      if (e.has("error")) {
        assertEquals(1, code, what + ": " + body + err);
        JsonNode error = RestJson.mapper().readTree(body);
        assertEquals(1, error.size(), what + ": the body is {\"error\": ...} alone: " + body);
        String tfCode = e.get("error").get("code").asText();
        int http = dev.upcycle.savedmodels.rest.TfCode.valueOf(tfCode).httpStatus();
        assertTrue(err.toString().contains("error: " + tfCode + " (TF Serving answers HTTP " + http + ")"),
            what + ": " + err);
        for (JsonNode c : e.get("error").get("contains")) {
          assertTrue(error.get("error").asText().contains(c.asText()), what + ": expected '" + c.asText() + "' in "
              + body);
        }
      } else {
        assertEquals(0, code, what + ": " + body + err);
        if (e.has("response_text")) {
          assertEquals(e.get("response_text").asText(), body, what);
        } else {
          assertEquals(e.get("response"), RestJson.mapper().readTree(body), what);
        }
      }
    }
    assertTrue(n >= 20, "the table has " + n + " examples");
  }
}
