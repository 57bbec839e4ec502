package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.model.testing.Fuzz;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the REST predict request path (docs/testing.md): mutated request bodies,
 * as bytes and as JSON trees (values swapped for other kinds, huge or non-finite numbers, deep or
 * wide lists, keys renamed), parsed with {@link RestJson#parse} and run with {@link
 * RestPredict#predict} on TF Serving's own test models ({@link ServedModel}), whose signatures take
 * fixed, -1 and unknown-rank shapes. Every outcome is a response or a {@link RestError} with a
 * message (TF Serving's error body), never another exception, each case under a timeout.
 */
class RestPredictFuzzTest {

  private static final int CASES = 250;
  private static final Duration PER_CASE = Duration.ofSeconds(20);
  private static final JsonMapper JSON = RestJson.mapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static ServedModel halfPlusTwo;
  private static ServedModel matrix;
  private static ServedModel python;

  /** A request body and the model it is sent to. */
  private record Seed(String body, ServedModel model) {}

  @BeforeAll
  static void load() throws IOException {
    halfPlusTwo = ServedModel.load(Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu/00000123"));
    matrix = ServedModel.load(Fixtures.fixture("tfserving_matrix_half_plus_two/1"));
    python = ServedModel.load(Fixtures.fixture("tfjava_saved_model_using_python/model"));
  }

  @AfterAll
  static void close() {
    for (ServedModel b : new ServedModel[] {halfPlusTwo, matrix, python}) {
      if (b != null) {
        b.close();
      }
    }
  }

  private static List<Seed> seeds() {
    return List.of(
        new Seed("{\"instances\": [[1.0], [2.0], [5.0]]}", halfPlusTwo),
        new Seed("{\"signature_name\": \"regress_x2_to_y3\", \"inputs\": {\"inputs\": [[1.0], [2.0]]}}", halfPlusTwo),
        new Seed("{\"instances\": [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]}", matrix),
        new Seed("{\"signature_name\": \"get_const_matrix\", \"inputs\": {\"input\": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}}",
            python));
  }

  /** Parses and runs one body, as {@code upcycle predict} does. */
  private static void predict(byte[] body, ServedModel model) {
    RestPredict.predict(model, body, "fuzz.json");
  }

  private static final Predicate<Throwable> CLEAR = t -> t instanceof RestError
      && t.getMessage() != null && !t.getMessage().isBlank();

  @Test
  void theSeedsAreAnswered() {
    for (Seed s : seeds()) {
      predict(s.body().getBytes(StandardCharsets.UTF_8), s.model());
    }
  }

  @Test
  void byteMutants() {
    for (Seed s : seeds()) {
      byte[] body = s.body().getBytes(StandardCharsets.UTF_8);
      Fuzz.Summary r = Fuzz.run("REST request bytes", body, Fuzz.cases(CASES) / seeds().size() + 1, PER_CASE,
          (bytes, i) -> predict(bytes, s.model()), CLEAR);
      assertTrue(r.errors() > 0, s.body() + ": " + r);
    }
  }

  /** Cases that found bugs, replayed under their own seed whatever the run's seed and count. */
  @Test
  void regressions() {
    Seed s = seeds().get(0);
    // byte case 40 of seed 14: 00 00 00 80 ... read as UTF-32, a bare UncheckedIOException
    Fuzz.Mutant m = Fuzz.mutant(s.body().getBytes(StandardCharsets.UTF_8), 14, 40);
    Throwable t = Fuzz.runOne(m.bytes(), 40, PER_CASE, (bytes, i) -> predict(bytes, s.model()), "REST request bytes",
        14, m.how());
    assertTrue(t instanceof RestError && t.getMessage().startsWith("JSON Parse error")
        && t.getMessage().contains("fuzz.json"), m.how() + ": " + t);
  }

  /**
   * A small ragged request whose first elements claim [46340, 46340] values (2^31 - 1 of them,
   * 8 GiB of floats) was allocated by the old reader before its lists were checked, and one claiming
   * 255^8 values overflowed into a NegativeArraySizeException: both are refused as TF Serving's
   * ragged-list error, with nothing of the claimed size allocated.
   */
  @Test
  void raggedRequestsClaimingMoreValuesThanTheyHoldAreRefusedFirst() {
    StringBuilder wide = new StringBuilder("[").append(1.0);
    for (int i = 1; i < 46_340; i++) {
      wide.append(",1");
    }
    wide.append(']');
    StringBuilder rows = new StringBuilder("[").append(wide);
    for (int i = 1; i < 46_340; i++) {
      rows.append(",1");
    }
    rows.append(']');
    for (String body : List.of("{\"inputs\": " + rows + "}", "{\"instances\": " + rows + "}",
        "{\"inputs\": " + nested(255, 8) + "}", "{\"instances\": " + nested(255, 8) + "}")) {
      Throwable t = Fuzz.runOne(body.getBytes(StandardCharsets.UTF_8), 0, PER_CASE,
          (bytes, i) -> predict(bytes, halfPlusTwo), "ragged request", 0, body.substring(0, 40));
      assertTrue(CLEAR.test(t) && t.getMessage().matches("(?s).*(level|unexpected|too large|Expecting).*"),
          String.valueOf(t));
    }
  }

  /**
   * Found by a 10,000-case run (seed 7): a request nested 255 lists deep (inside the nesting limit)
   * reached TensorFlow as a rank-255 tensor, and TensorFlow aborted the JVM ("Too many dimensions in
   * tensor"). Ranks up to 254 still reach the model; every outcome here is a RestError
   * (INVALID_ARGUMENT) or an answer.
   */
  @Test
  void aTensorOfMoreDimensionsThanTensorFlowAllowsIsRefused() {
    for (String which : List.of("inputs", "instances")) {
      String deep = "[".repeat(255) + "1.0" + "]".repeat(255);
      String body = "{\"signature_name\": \"get_const_matrix\", \"" + which + "\": "
          + (which.equals("inputs") ? "{\"input\": " + deep + "}" : deep) + "}";
      Throwable t = Fuzz.runOne(body.getBytes(StandardCharsets.UTF_8), 0, PER_CASE,
          (bytes, i) -> predict(bytes, python), "rank 255", 0, which);
      assertTrue(CLEAR.test(t) && ((RestError) t).code() == TfCode.INVALID_ARGUMENT
          && t.getMessage().contains("at most " + HostTensor.MAX_RANK), which + ": " + t);
    }
    String rank254 = "{\"signature_name\": \"get_const_matrix\", \"inputs\": {\"input\": " + "[".repeat(254) + "1.0"
        + "]".repeat(254) + "}}";
    Throwable t = Fuzz.runOne(rank254.getBytes(StandardCharsets.UTF_8), 0, PER_CASE,
        (bytes, i) -> predict(bytes, python), "rank 254", 0, "rank 254");
    assertTrue(t == null || CLEAR.test(t) && !t.getMessage().contains("at most 254"), String.valueOf(t));
  }

  /** {@code levels} nested lists, each holding the next level first and then {@code width - 1} numbers. */
  private static String nested(int width, int levels) {
    String v = "2.0";
    for (int level = 0; level < levels; level++) {
      StringBuilder a = new StringBuilder("[").append(v);
      for (int i = 1; i < width; i++) {
        a.append(",3");
      }
      v = a.append(']').toString();
    }
    return v;
  }

  @Test
  void treeMutants() {
    for (Seed s : seeds()) {
      JsonNode tree = RestJson.parse(s.body().getBytes(StandardCharsets.UTF_8), "seed");
      Fuzz.Summary r = Fuzz.run("REST request trees", i -> treeMutant(tree, Fuzz.seed(), i),
          Fuzz.cases(CASES) / seeds().size() + 1, PER_CASE, (bytes, i) -> predict(bytes, s.model()), CLEAR);
      assertTrue(r.errors() > 0 && r.values() > 0, s.body() + ": " + r);
    }
  }

  /** One to three tree edits: a node replaced by another kind of value, a key renamed or dropped. */
  static Fuzz.Mutant treeMutant(JsonNode seed, long seed64, long index) {
    Random r = new Random(seed64 * 0x2545F4914F6CDD1DL + index);
    JsonNode root = seed.deepCopy();
    List<String> how = new ArrayList<>();
    for (int k = 1 + r.nextInt(3); k > 0; k--) {
      List<JsonNode> containers = new ArrayList<>();
      collect(root, containers);
      JsonNode parent = containers.get(r.nextInt(containers.size()));
      if (parent.isEmpty()) {
        continue;
      }
      if (parent instanceof ObjectNode o) {
        List<String> keys = new ArrayList<>();
        o.fieldNames().forEachRemaining(keys::add);
        String key = keys.get(r.nextInt(keys.size()));
        switch (r.nextInt(4)) {
          case 0 -> {
            JsonNode v = o.remove(key);
            String to = List.of("instances", "inputs", "signature_name", "x", "input", "b64", "").get(r.nextInt(7));
            o.set(to, v);
            how.add("rename '" + key + "' to '" + to + "'");
          }
          case 1 -> {
            o.remove(key);
            how.add("drop '" + key + "'");
          }
          default -> {
            o.set(key, value(r, o.get(key)));
            how.add("replace '" + key + "'");
          }
        }
      } else {
        ArrayNode a = (ArrayNode) parent;
        int at = r.nextInt(a.size());
        switch (r.nextInt(4)) {
          case 0 -> {
            a.remove(at);
            how.add("remove element " + at);
          }
          case 1 -> {
            a.insert(at, value(r, a.get(at)));
            how.add("insert at " + at);
          }
          default -> {
            a.set(at, value(r, a.get(at)));
            how.add("replace element " + at);
          }
        }
      }
    }
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return new Fuzz.Mutant(bytes, String.join(", ", how) + " -> " + abbreviate(new String(bytes, StandardCharsets.UTF_8)));
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 197) + "..." : s;
  }

  private static void collect(JsonNode n, List<JsonNode> out) {
    if (n.isContainerNode()) {
      out.add(n);
      for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) {
        collect(it.next(), out);
      }
    }
  }

  /** Another value: boundary numbers, other kinds, deep, wide or ragged lists, a copy of {@code old}. */
  private static JsonNode value(Random r, JsonNode old) {
    switch (r.nextInt(14)) {
      case 0: return NODES.numberNode(1e300 * 1e300 * (r.nextBoolean() ? 1 : -1)); // +-Infinity
      case 1: return NODES.numberNode(Double.NaN);
      case 2: return NODES.numberNode(new java.math.BigInteger("123456789012345678901234567890"));
      case 3: return NODES.numberNode(r.nextBoolean() ? Long.MAX_VALUE : Integer.MIN_VALUE);
      case 4: return NODES.textNode(r.nextBoolean() ? "" : "serving_default");
      case 5: return NODES.nullNode();
      case 6: return NODES.booleanNode(r.nextBoolean());
      case 7: return NODES.objectNode();
      case 8: return NODES.arrayNode();
      case 9: { // deep: up to past the nesting limit
        JsonNode v = NODES.numberNode(1.0);
        int depth = 1 + r.nextInt(RestJson.MAX_NESTING_DEPTH + 10);
        for (int i = 0; i < depth; i++) {
          v = NODES.arrayNode().add(v);
        }
        return v;
      }
      case 10: { // wide first elements over several levels: a shape that implies far more values than are there
        JsonNode v = NODES.numberNode(2.0);
        for (int level = 0, levels = 1 + r.nextInt(8); level < levels; level++) {
          ArrayNode a = NODES.arrayNode().add(v);
          for (int i = 0, n = r.nextInt(300); i < n; i++) {
            a.add(3.0);
          }
          v = a;
        }
        return v;
      }
      case 11: { // a list of n copies
        ArrayNode a = NODES.arrayNode();
        for (int i = 0, n = r.nextInt(5); i < n; i++) {
          a.add(old.deepCopy());
        }
        return a;
      }
      case 12: return NODES.objectNode().put("b64", "AAEC");
      default: return old.isContainerNode() ? NODES.arrayNode().add(old.deepCopy()) : NODES.numberNode(-0.0);
    }
  }
}
