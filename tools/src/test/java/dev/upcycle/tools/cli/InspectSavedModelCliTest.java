package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code inspect BASE} and {@code inspect BASE/N} on TF Serving's and TF Java's SavedModels: the
 * versions found, tags and every signature, then the variables as for any checkpoint; {@code --json}
 * adds them under {@code saved_model}.
 */
class InspectSavedModelCliTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int inspect(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "inspect";
    System.arraycopy(args, 0, all, 1, args.length);
    return Main.execute(all, new PrintWriter(out, true), new PrintWriter(err, true), Map.of());
  }

  @Test
  void aModelBaseShowsItsVersionsSignaturesAndVariables() {
    Path base = Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu");
    assertEquals(0, inspect(base.toString()), err.toString());
    String text = out.toString();
    for (String expected : new String[] {"saved model: " + base,
        "versions: 123; showing version 123 " + base.resolve("00000123"),
        "meta graph: tags {serve}, 5 signatures, written by TensorFlow 1.14.0",
        "  signature 'serving_default': method tensorflow/serving/predict\n    input  x: DT_FLOAT [-1,1] (x:0)\n"
            + "    output y: DT_FLOAT [-1,1] (y:0)",
        "    input  inputs: DT_STRING unknown rank (tf_example:0)",
        "format: "}) {
      assertTrue(text.contains(expected), "expected '" + expected + "' in:\n" + text);
    }
    assertTrue(text.indexOf("signature 'serving_default'") < text.indexOf("format: "), "signatures, then variables");
    assertTrue(text.matches("(?s).*\\n  a +float32 +\\[\\] .*"), "the variables as today:\n" + text);
  }

  @Test
  void aVersionFolderAndJson() throws Exception {
    Path version = Fixtures.fixture("tfserving_saved_model_half_plus_two_tf2_cpu/00000123");
    assertEquals(0, inspect("--json", version.toString()), err.toString());
    JsonNode root = new ObjectMapper().readTree(out.toString());
    JsonNode sm = root.get("saved_model");
    assertEquals(123, sm.get("version").asInt());
    assertEquals("[123]", sm.get("versions").toString());
    JsonNode graph = sm.get("meta_graphs").get(0);
    assertEquals("[\"serve\"]", graph.get("tags").toString());
    assertEquals("2.14.0", graph.get("tensorflow_version").asText());
    JsonNode serving = null;
    for (JsonNode s : graph.get("signatures")) {
      if (s.get("name").asText().equals("serving_default")) {
        serving = s;
      }
    }
    assertEquals("x", serving.get("inputs").get(0).get("key").asText());
    assertEquals("[1]", serving.get("inputs").get(0).get("shape").toString());
    assertTrue(root.get("tensors").size() > 0, "the variables as today: " + root.get("tensors"));
  }

  @Test
  void aSavedModelWithoutVariablesAndOneWhoseFolderIsNotANumber() {
    assertEquals(0, inspect(Fixtures.fixture("tfserving_matrix_half_plus_two").toString()), err.toString());
    assertTrue(out.toString().contains("    input  x: DT_FLOAT [-1,3,3] (x:0)")
        && out.toString().contains("variables: none (the SavedModel has no variables/ folder)"), out.toString());
    out.getBuffer().setLength(0);
    Path model = Fixtures.fixture("tfjava_saved_model_using_python/model");
    assertEquals(0, inspect(model.toString()), err.toString());
    assertTrue(out.toString().contains("versions: none numbered; showing " + model)
        && out.toString().contains("  signature 'get_variable': method tensorflow/serving/predict\n"
            + "    input  dummy: DT_FLOAT unknown rank (get_variable_dummy:0)\n"
            + "    output output_0: DT_FLOAT [] (StatefulPartitionedCall:0)"), out.toString());
  }
}
