package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.savedmodels.ServingVersions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every TF Serving SavedModel in {@code testdata/} (and TF Java's) answers the requests of
 * {@code testdata/tfserving_rest_examples/examples.json} — TF Serving's documented examples and the
 * request/answer pairs of its tests — with TF Serving's answers, through the library call
 * {@link RestPredict#predict(ServedModel, byte[], String)}. (The CLI runs the same table:
 * {@code PredictExamplesCliTest} in tools.)
 */
class TfServingExamplesTest {

  static final String EXAMPLES = "tfserving_rest_examples/examples.json";

  /** One example of the table. */
  record Example(String model, String source, String body, JsonNode response, String responseText, TfCode code,
      List<String> contains) {

    /** Checks {@code answer} (a response body) or {@code error} (exactly one is non-null) against this example. */
    void check(String answer, RestError error) throws IOException {
      String what = model + ": " + body + " (" + source + ")";
      if (code != null) {
        if (error == null) {
          fail(what + ": expected " + code + ", answered " + answer);
        }
        assertEquals(code, error.code(), what + ": " + error.getMessage());
        for (String c : contains) {
          assertTrue(error.getMessage().contains(c), what + ": expected '" + c + "' in: " + error.getMessage());
        }
        return;
      }
      if (error != null) {
        fail(what + ": failed with " + error.status(), error);
      }
      if (responseText != null) {
        assertEquals(responseText, answer, what);
      } else {
        assertEquals(response, RestJson.mapper().readTree(answer), what);
      }
    }
  }

  /** The table, in order. */
  static List<Example> examples() throws IOException {
    JsonNode root = RestJson.mapper().readTree(Files.readString(Fixtures.fixture(EXAMPLES)));
    List<Example> list = new ArrayList<>();
    for (JsonNode e : root.get("examples")) {
      JsonNode error = e.get("error");
      List<String> contains = new ArrayList<>();
      if (error != null) {
        error.get("contains").forEach(c -> contains.add(c.asText()));
      }
      list.add(new Example(e.get("model").asText(), e.get("source").asText(), e.get("body").asText(), e.get("response"),
          e.has("response_text") ? e.get("response_text").asText() : null,
          error == null ? null : TfCode.valueOf(error.get("code").asText()), contains));
    }
    return list;
  }

  @Test
  void everyExampleGivesTfServingsAnswer() throws Exception {
    Map<String, List<Example>> byModel = examples().stream().collect(Collectors.groupingBy(Example::model,
        LinkedHashMap::new, Collectors.toList()));
    for (Map.Entry<String, List<Example>> m : byModel.entrySet()) {
      try (ServedModel model = ServedModel.load(ServingVersions.resolve(Fixtures.fixture(m.getKey())))) {
        for (Example e : m.getValue()) {
          String answer = null;
          RestError error = null;
          try {
            answer = RestPredict.predict(model, e.body().getBytes(StandardCharsets.UTF_8), "request.json");
          } catch (RestError x) {
            error = x;
          }
          e.check(answer, error);
        }
      }
    }
  }

  @Test
  void everyTfServingFixtureHasExamples() throws Exception {
    Set<String> covered = new TreeSet<>();
    for (Example e : examples()) {
      covered.add(e.model().split("/")[0]);
    }
    try (Stream<Path> dirs = Files.list(Fixtures.testdataDir())) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        String name = d.getFileName().toString();
        if (name.startsWith("tfserving_saved_model") || name.startsWith("tfserving_matrix")
            || name.equals("tfjava_saved_model_using_python")) {
          assertTrue(covered.contains(name), name + " has no example in " + EXAMPLES);
        }
      }
    }
  }

  @Test
  void stateCarriesOverBetweenRequestsAsInTfServing() throws Exception {
    // predict_util_test.cc runs get/incr/reset/incr/incr_by(3) in order on one model; REST reaches incr_counter_by
    try (ServedModel counter = ServedModel.load(ServingVersions.resolve(
        Fixtures.fixture("tfserving_saved_model_counter")))) {
      byte[] incr = "{\"signature_name\": \"incr_counter_by\", \"inputs\": 3}".getBytes(StandardCharsets.UTF_8);
      assertEquals("{\"outputs\":3.0}", RestPredict.predict(counter, incr, "a"));
      assertEquals("{\"outputs\":6.0}", RestPredict.predict(counter, incr, "b"));
      assertEquals("{\"outputs\":4.5}", RestPredict.predict(counter,
          "{\"signature_name\": \"incr_counter_by\", \"inputs\": -1.5}".getBytes(StandardCharsets.UTF_8), "c"));
    }
  }

  @Test
  void aModelTfJavaRefusesIsServedAsTfServingServesIt() throws Exception {
    Path three = ServingVersions.resolve(Fixtures.fixture("tfserving_saved_model_half_plus_three"));
    // TF Java's own loader refuses the whole model for its malformed regress signature
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> org.tensorflow.SavedModelBundle.load(three.toString(), "serve").close());
    assertTrue(refused.getMessage().contains("tf_example:0"), refused.getMessage());
    Path view;
    try (ServedModel model = ServedModel.load(three)) {
      assertTrue(model.loadNote().isPresent());
      assertEquals(Set.of("serving_default", "tensorflow/serving/regress"), model.signatures().keySet());
      view = Files.list(Path.of(System.getProperty("java.io.tmpdir")))
          .filter(p -> p.getFileName().toString().startsWith("upcycle-savedmodel-view-")).findFirst().orElseThrow();
      assertTrue(Files.isSymbolicLink(view.resolve("variables")), "the view links the variables");
      assertEquals("{\"outputs\":3.5}", RestPredict.predict(model,
          "{\"inputs\": 1.0}".getBytes(StandardCharsets.UTF_8), "t"));
    }
    assertFalse(Files.exists(view), "closing removes the view");
    assertTrue(Files.isDirectory(three.resolve("variables")), "the original stays");
    try (ServedModel two = ServedModel.load(ServingVersions.resolve(
        Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu")))) {
      assertTrue(two.loadNote().isEmpty(), "a model TF Java accepts loads as it is");
    }
  }
}
