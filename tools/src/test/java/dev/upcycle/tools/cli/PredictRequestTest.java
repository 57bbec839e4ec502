package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code predict} reads exactly one bounded JSON document, as TF Serving does (400 otherwise). */
class PredictRequestTest {

  @TempDir Path tmp;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int predict(String body) throws Exception {
    Path request = Files.writeString(tmp.resolve("request.json"), body);
    Path model = Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu");
    return Main.execute(new String[] {"predict", "--model", model.toString(), "--request", request.toString()},
        new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
  }

  @Test
  void aWellFormedRequestIsAnswered() throws Exception {
    assertEquals(0, predict("{\"instances\": [[1.0], [2.0]]}\n"), err.toString());
    assertTrue(out.toString().contains("\"predictions\":[[2.5],[3.0]]"), out.toString());
  }

  @Test
  void trailingBytesAfterTheDocumentAreRefused() throws Exception {
    assertEquals(1, predict("{\"instances\": [[1.0], [2.0]]} xyz"), out.toString() + err);
    String body = out.toString();
    assertTrue(body.startsWith("{\"error\":\"JSON Parse error: The document root must not be followed by other values"),
        body);
    assertTrue(body.contains("request.json"), body);
    assertFalse(body.contains("predictions"), body);
  }

  @Test
  void deeplyNestedRequestsAreACleanErrorAtABoundedDepth() throws Exception {
    for (int depth : new int[] {300, 20_000}) {
      out.getBuffer().setLength(0);
      String body = "{\"instances\": " + "[".repeat(depth) + "1" + "]".repeat(depth) + "}";
      assertEquals(1, predict(body), depth + ": " + out + err);
      assertTrue(out.toString().contains("nesting depth") && out.toString().contains("at most "
          + dev.upcycle.savedmodels.rest.RestJson.MAX_NESTING_DEPTH), depth + ": " + out);
      assertFalse(err.toString().contains("StackOverflowError"), err.toString());
    }
  }

  @Test
  void aTruncatedVariablesFileIsNamed() throws Exception {
    Path fixture = Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu/00000123");
    Path version = Files.createDirectories(tmp.resolve("model/1/variables"));
    Files.copy(fixture.resolve("saved_model.pb"), version.getParent().resolve("saved_model.pb"));
    Files.copy(fixture.resolve("variables/variables.index"), version.resolve("variables.index"));
    Path data = version.resolve("variables.data-00000-of-00001");
    Files.write(data, java.util.Arrays.copyOf(Files.readAllBytes(fixture.resolve("variables/variables.data-00000-of-00001")),
        4));
    Path request = Files.writeString(tmp.resolve("request.json"), "{\"instances\": [[1.0]]}");
    int code = Main.execute(new String[] {"predict", "--model", tmp.resolve("model").toString(), "--request",
        request.toString()}, new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
    assertEquals(1, code, err.toString());
    assertTrue(err.toString().contains(version.toString()) && err.toString().contains("truncated"), err.toString());
  }
}
