package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.Presets;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.RestPredict;
import dev.upcycle.savedmodels.rest.ServedModel;
import dev.upcycle.savedmodels.rest.TfCode;
import java.nio.charset.StandardCharsets;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * TF Serving REST predict payloads run through {@link RestPredict} on exported random models give
 * exactly the numbers of the same signature called directly through {@link SavedModelBundle}
 * (row and columnar format, named and bare inputs, {@code score} by {@code signature_name}); bad
 * requests fail with TF Serving's code and message, and a shape the graph cannot take is fed as the
 * JSON gives it and refused by the graph itself.
 */
class RestPredictTest {

  private static final VitConfig VIT = (VitConfig) Presets.get("vit-mnist");
  private static final LmConfig LM = (LmConfig) Presets.get("lm-tiny");
  private static final int VIT_BATCH = 4;
  private static final int LM_BATCH = 2;
  private static final int LM_LENGTH = 8;
  private static final JsonMapper JSON = RestJson.mapper();

  @TempDir static Path tmp;
  private static ServedModel vit;
  private static ServedModel lm;
  /** The same models loaded by TF Java, whose signature functions give the numbers REST must equal. */
  private static SavedModelBundle vitDirect;
  private static SavedModelBundle lmDirect;

  @BeforeAll
  static void exportModels() throws Exception {
    ModelSpec vitSpec = ModelSpec.dense(VIT);
    checkpoint(vitSpec, new BatchShape(VIT_BATCH, 1, 1), tmp.resolve("vit-ckpt/model.ckpt-1"));
    SavedModelExporter.export(vitSpec, tmp.resolve("vit-ckpt"), tmp.resolve("serving/vit"),
        ExportOptions.defaults().withBatch(VIT_BATCH).withVerify(false), null, line -> { });
    ModelSpec lmSpec = ModelSpec.dense(LM);
    checkpoint(lmSpec, new BatchShape(LM_BATCH, LM_LENGTH, LM_LENGTH), tmp.resolve("lm-ckpt/model.ckpt-1"));
    SavedModelExporter.export(lmSpec, tmp.resolve("lm-ckpt"), tmp.resolve("serving/lm"),
        ExportOptions.defaults().withBatch(LM_BATCH).withLength(LM_LENGTH).withVerify(false), null, line -> { });
    vit = ServedModel.load(ServingVersions.resolve(tmp.resolve("serving/vit")));
    lm = ServedModel.load(tmp.resolve("serving/lm/1"));
    vitDirect = SavedModelBundle.load(vit.dir().toString(), "serve");
    lmDirect = SavedModelBundle.load(lm.dir().toString(), "serve");
  }

  @AfterAll
  static void close() {
    if (vit != null) {
      vit.close();
    }
    if (lm != null) {
      lm.close();
    }
    if (vitDirect != null) {
      vitDirect.close();
    }
    if (lmDirect != null) {
      lmDirect.close();
    }
  }

  /** Random weights of {@code spec} saved as a TF bundle at {@code prefix}. */
  static void checkpoint(ModelSpec spec, BatchShape shape, Path prefix) throws Exception {
    try (ModelGraph<TFloat32> g = ModelGraph.build(spec, shape, TFloat32.class, false, 5, false, false).initialize();
        TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(prefix.getParent()).resolve(prefix.getFileName()))) {
      for (RawTensor t : GraphWeights.of(g)) {
        w.write(t);
      }
      w.commit();
    }
  }

  /** {@code n} images of multiples of 1/256 (exact in decimal, double and float), [n, 28, 28, 1]. */
  static float[] pixels(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] p = new float[n * 28 * 28];
    for (int i = 0; i < p.length; i++) {
      p[i] = rnd.nextInt(512) / 256f - 1f;
    }
    return p;
  }

  /** Image {@code i} of {@code p} as the JSON text of a nested [28, 28, 1] list. */
  static String image(float[] p, int i) {
    int off = i * 28 * 28;
    return IntStream.range(0, 28).mapToObj(y -> IntStream.range(0, 28)
        .mapToObj(x -> "[" + p[off + y * 28 + x] + "]").collect(Collectors.joining(",", "[", "]")))
        .collect(Collectors.joining(",", "[", "]"));
  }

  private static String zeros(int... dims) {
    if (dims.length == 0) {
      return "0.0";
    }
    int[] rest = java.util.Arrays.copyOfRange(dims, 1, dims.length);
    return IntStream.range(0, dims[0]).mapToObj(i -> zeros(rest)).collect(Collectors.joining(",", "[", "]"));
  }

  private static JsonNode predict(ServedModel model, String request) throws Exception {
    return JSON.readTree(RestPredict.predict(model, request.getBytes(StandardCharsets.UTF_8), "test"));
  }

  private static float[][] matrix(TFloat32 t) {
    float[][] m = new float[(int) t.shape().get(0)][(int) t.shape().get(1)];
    for (int i = 0; i < m.length; i++) {
      for (int j = 0; j < m[i].length; j++) {
        m[i][j] = t.getFloat(i, j);
      }
    }
    return m;
  }

  private static void assertRow(float[] expected, JsonNode actual, String what) {
    assertTrue(actual.isArray() && actual.size() == expected.length, what + ": " + actual);
    for (int j = 0; j < expected.length; j++) {
      assertEquals(expected[j], actual.get(j).floatValue(), what + "[" + j + "]");
    }
  }

  @Test
  void rowAndColumnarRequestsGiveTheSignaturesOwnNumbers() throws Exception {
    int n = 3;
    float[] p = pixels(n, 11);
    float[][] logits;
    float[][] probs;
    long[] classes = new long[n];
    try (TFloat32 images = TFloat32.tensorOf(Shape.of(n, 28, 28, 1), DataBuffers.of(p));
        Result direct = vitDirect.function("serving_default").call(Map.of("images", images))) {
      logits = matrix((TFloat32) direct.get("logits").orElseThrow());
      probs = matrix((TFloat32) direct.get("probabilities").orElseThrow());
      TInt64 c = (TInt64) direct.get("classes").orElseThrow();
      for (int i = 0; i < n; i++) {
        classes[i] = c.getLong(i);
      }
    }
    List<String> named = new ArrayList<>();
    List<String> bare = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      named.add("{\"images\": " + image(p, i) + "}");
      bare.add(image(p, i));
    }
    String all = String.join(",", bare);
    for (String request : List.of("{\"instances\": [" + String.join(",", named) + "]}",
        "{\"signature_name\": \"serving_default\", \"instances\": [" + all + "]}")) {
      JsonNode predictions = predict(vit, request).get("predictions");
      assertEquals(n, predictions.size(), predictions.toString());
      for (int i = 0; i < n; i++) {
        JsonNode row = predictions.get(i);
        assertEquals(List.of("classes", "logits", "probabilities"), fieldNames(row));
        assertRow(logits[i], row.get("logits"), "logits " + i);
        assertRow(probs[i], row.get("probabilities"), "probabilities " + i);
        assertTrue(row.get("classes").isIntegralNumber(), row.get("classes").toString());
        assertEquals(classes[i], row.get("classes").longValue(), "class " + i);
      }
    }
    for (String request : List.of("{\"inputs\": {\"images\": [" + all + "]}}", "{\"inputs\": [" + all + "]}")) {
      JsonNode outputs = predict(vit, request).get("outputs");
      assertEquals(List.of("classes", "logits", "probabilities"), fieldNames(outputs));
      assertEquals(n, outputs.get("logits").size());
      for (int i = 0; i < n; i++) {
        assertRow(logits[i], outputs.get("logits").get(i), "columnar logits " + i);
        assertRow(probs[i], outputs.get("probabilities").get(i), "columnar probabilities " + i);
        assertEquals(classes[i], outputs.get("classes").get(i).longValue(), "columnar class " + i);
      }
    }
  }

  private static List<String> fieldNames(JsonNode object) {
    assertTrue(object.isObject(), object.toString());
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void scoreIsChosenBySignatureNameAndItsOneOutputIsWrittenBare() throws Exception {
    int n = 2;
    float[] p = pixels(n, 12);
    int[] labels = {7, 2};
    float[] expected = new float[n];
    try (TFloat32 images = TFloat32.tensorOf(Shape.of(n, 28, 28, 1), DataBuffers.of(p));
        TInt32 l = TInt32.vectorOf(labels);
        Result direct = vitDirect.function("score").call(Map.of("images", images, "labels", l))) {
      TFloat32 ll = (TFloat32) direct.get("log_likelihood").orElseThrow();
      for (int i = 0; i < n; i++) {
        expected[i] = ll.getFloat(i);
      }
    }
    JsonNode rows = predict(vit, "{\"signature_name\": \"score\", \"instances\": [{\"images\": " + image(p, 0)
        + ", \"labels\": 7}, {\"labels\": 2, \"images\": " + image(p, 1) + "}]}").get("predictions");
    JsonNode columns = predict(vit, "{\"signature_name\": \"score\", \"inputs\": {\"labels\": [7, 2], \"images\": ["
        + image(p, 0) + "," + image(p, 1) + "]}}").get("outputs");
    assertRow(expected, rows, "row-format log-likelihoods");
    assertRow(expected, columns, "columnar log-likelihoods");
    assertTrue(expected[0] < 0 && expected[1] < 0, "log-likelihoods are negative");
  }

  @Test
  void lmNextTokenLogitsAndScoresFromBareInstances() throws Exception {
    int[][] ids = {{5, 9, 3, 0, 0, 0, 0}, {2, 2, 2, 2, 2, 2, 1}};
    float[][] logits;
    float[] scores = new float[LM_BATCH];
    try (TInt32 in = TInt32.tensorOf(StdArrays.ndCopyOf(ids));
        Result next = lmDirect.function("serving_default").call(Map.of("input_ids", in));
        Result score = lmDirect.function("score").call(Map.of("input_ids", in))) {
      logits = matrix((TFloat32) next.get("logits").orElseThrow());
      for (int i = 0; i < LM_BATCH; i++) {
        scores[i] = ((TFloat32) score.get("log_likelihood").orElseThrow()).getFloat(i);
      }
    }
    String rows = "[5, 9, 3, 0, 0, 0, 0], [2, 2, 2, 2, 2, 2, 1]";
    JsonNode predictions = predict(lm, "{\"instances\": [" + rows + "]}").get("predictions");
    assertEquals(LM_BATCH, predictions.size());
    for (int i = 0; i < LM_BATCH; i++) {
      assertEquals(LM.vocabSize(), predictions.get(i).size());
      assertRow(logits[i], predictions.get(i), "next-token logits " + i);
    }
    assertRow(scores, predict(lm, "{\"signature_name\": \"score\", \"inputs\": [" + rows + "]}").get("outputs"),
        "scores");
    assertRow(scores, predict(lm, "{\"signature_name\": \"score\", \"instances\": [{\"input_ids\": [5, 9, 3, 0, 0, 0,"
        + " 0]}, {\"input_ids\": [2, 2, 2, 2, 2, 2, 1]}]}").get("predictions"), "row-format scores");
    fails(lm, "{\"instances\": [[5, 9.5]]}", "JSON Value: 9.5", "is not of expected type: int32");
    fails(lm, "{\"instances\": [[5, 3000000000]]}", "3000000000", "int32");
  }

  @Test
  void badRequestsFailWithTfServingsCodeAndMessage() throws Exception {
    String img = zeros(28, 28, 1);
    fails(vit, "[1, 2]", "JSON Value: [1,2] Is not object");
    fails(vit, "{\"signature_name\": 3, \"instances\": [" + img + "]}", "'signature_name' key must be a string value");
    fails(vit, "{\"signature_name\": \"nope\", \"instances\": [" + img + "]}",
        "Serving signature name: \"nope\" not found in signature def", "score, serving_default");
    fails(vit, "{\"instances\": [" + img + "], \"inputs\": [" + img + "]}",
        "expecting only one of 'inputs' or 'instances' keys");
    fails(vit, "{\"signature_name\": \"score\"}", "Missing 'inputs' or 'instances' key");
    fails(vit, "{\"instances\": []}", "No values in 'instances' array");
    // ragged: one row of the image is a pixel short
    String ragged = "[" + zeros(27, 28, 1).substring(1, zeros(27, 28, 1).length() - 1) + "," + zeros(27, 1) + "]";
    fails(vit, "{\"instances\": [" + ragged + "]}", "Failed to process element: 0 of 'instances' list. Error:"
        + " INVALID_ARGUMENT: Encountered list at unexpected size: 27 at level: 1 expected size: 28");
    fails(vit, "{\"inputs\": {\"images\": [" + ragged + "]}}", "Encountered list at unexpected size: 27");
    fails(vit, "{\"instances\": [" + img + ", " + zeros(28, 27, 1) + "]}",
        "Failed to process element: 1 of 'instances' list", "Expecting tensor size: 784 but got: 756");
    fails(vit, "{\"instances\": [[[[0.0]]], " + "[[[0.0], [1.0]]]" + "]}", "Expecting tensor size: 1 but got: 2");
    // unknown and missing keys
    fails(vit, "{\"instances\": [{\"images\": " + img + ", \"pixels\": 1}]}",
        "Failed to process element: 0 key: pixels", "does not have named input: pixels", "takes: images");
    fails(vit, "{\"signature_name\": \"score\", \"instances\": [{\"images\": " + img + "}]}",
        "keys must be equal to: images,labels");
    fails(vit, "{\"signature_name\": \"score\", \"inputs\": {\"images\": [" + img + "]}}",
        "Missing named input: labels in 'inputs' object");
    fails(vit, "{\"signature_name\": \"score\", \"instances\": [" + img + "]}",
        "instances is a plain list, but expecting list of objects", "images,labels");
    fails(vit, "{\"signature_name\": \"score\", \"inputs\": [" + img + "]}", "inputs is a plain value/list",
        "images,labels");
    fails(vit, "{\"instances\": [{\"images\": " + img + "}, " + img + "]}",
        "Expecting object but got list at item 1 of input list");
    fails(vit, "{\"instances\": [" + img + ", {\"images\": " + img + "}]}",
        "Expecting value/list but got object at item 1 of input list");
    // values of the wrong type
    fails(vit, "{\"signature_name\": \"score\", \"instances\": [{\"images\": " + img + ", \"labels\": 1.5}]}",
        "key: labels", "JSON Value: 1.5 Type: Number is not of expected type: int32");
    fails(vit, "{\"inputs\": [[[[\"x\"]]]]}", "JSON Value: \"x\" Type: String is not of expected type: float");
    fails(vit, "{\"inputs\": [[[[[1], 2]]]]}", "found at incorrect level");
    // shapes the graph cannot take are fed as the JSON gives them; the graph refuses them
    fails(vit, "{\"instances\": [" + zeros(28, 28) + "]}",
        "[1,28,28] is not compatible with expected shape [?,28,28,1]", "serving/check_images");
    fails(vit, "{\"inputs\": {\"images\": [" + zeros(27, 28, 1) + "]}}",
        "[1,27,28,1] is not compatible with expected shape [?,28,28,1]");
    // a request TensorFlow refuses while running: more images than the export's batch
    fails(vit, "{\"instances\": [" + String.join(",", List.of(img, img, img, img, img)) + "]}",
        "request batch must hold 1 to 4 examples");
  }

  @Test
  void whatTfServingAcceptsIsAccepted() throws Exception {
    String img = zeros(28, 28, 1);
    JsonNode plain = predict(vit, "{\"inputs\": {\"images\": [" + img + "]}}");
    // keys of an 'inputs' object the signature does not have are ignored, as TF Serving ignores them
    assertEquals(plain, predict(vit, "{\"inputs\": {\"images\": [" + img + "], \"pixels\": 1}}"));
    // integers for a float input, beyond float's exact range too, are rounded (TF Serving's b/181409782)
    JsonNode big = predict(vit, "{\"inputs\": [" + img.replaceFirst("0\\.0", "16777217") + "]}");
    assertEquals(VIT.numClasses(), big.get("outputs").get("logits").get(0).size(), big.toString());
  }

  private static void fails(ServedModel model, String request, String... fragments) {
    RestError e = assertThrows(RestError.class, () -> RestPredict.predict(model,
        request.getBytes(StandardCharsets.UTF_8), "test"), request.length() > 200 ? request.substring(0, 200) : request);
    assertEquals(TfCode.INVALID_ARGUMENT, e.code(), e.getMessage());
    assertEquals(400, e.httpStatus());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
    }
  }

  @Test
  void theHighestNumericVersionIsServedFromABaseFolder() throws Exception {
    Path base = tmp.resolve("versions");
    for (String v : List.of("2", "10", "9", ".11.export-abc", "12x")) {
      Files.createDirectories(base.resolve(v));
    }
    Files.createDirectories(base.resolve("11")); // no saved_model.pb: not a version
    for (String v : List.of("2", "10", "9", ".11.export-abc", "12x")) {
      Files.writeString(base.resolve(v).resolve("saved_model.pb"), "");
    }
    assertEquals(base.resolve("10"), ServingVersions.resolve(base));
    assertEquals(base.resolve("9"), ServingVersions.resolve(base.resolve("9")));
    FileNotFoundException none = assertThrows(FileNotFoundException.class,
        () -> ServingVersions.resolve(base.resolve("11")));
    assertTrue(none.getMessage().contains("no SavedModel in " + base.resolve("11")), none.getMessage());
    assertThrows(FileNotFoundException.class, () -> ServingVersions.resolve(tmp.resolve("absent")));
  }
}
