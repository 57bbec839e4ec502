package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.Presets;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.testing.Fixtures;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SavedModelInspection} reads versions, tags and signatures (method, inputs and outputs with
 * dtype, shape and graph tensor; unknown rank shown as such) from {@code saved_model.pb}: of TF
 * Serving's and TF Java's SavedModels in {@code testdata/}, as their MANIFEST describes them, and of
 * a SavedModel the exporter writes.
 */
class SavedModelInspectionTest {

  private static final JsonMapper JSON = new JsonMapper();

  @TempDir Path tmp;

  @Test
  void tfServingsHalfPlusTwoFromItsBaseFolder() throws Exception {
    Path base = Fixtures.fixture("tfserving_saved_model_half_plus_two_cpu");
    assertTrue(SavedModelInspection.isSavedModel(base));
    SavedModelInspection m = SavedModelInspection.of(base);
    assertEquals(List.of(123L), List.copyOf(m.versions().keySet()));
    assertEquals(base.resolve("00000123"), m.dir());
    assertEquals(123, m.version());
    assertTrue(m.hasVariables());
    String text = m.format();
    for (String line : List.of("versions: 123; showing version 123 " + base.resolve("00000123"),
        "meta graph: tags {serve}, 5 signatures, written by TensorFlow 1.14.0",
        "  signature 'classify_x_to_y': method tensorflow/serving/classify",
        "    input  inputs: DT_STRING unknown rank (tf_example:0)",
        "    output scores: DT_FLOAT [-1,1] (y:0)",
        "  signature 'serving_default': method tensorflow/serving/predict",
        "    input  x: DT_FLOAT [-1,1] (x:0)",
        "  signature 'regress_x2_to_y3': method tensorflow/serving/regress")) {
      assertTrue(text.contains(line + "\n"), "expected line '" + line + "' in:\n" + text);
    }
    JsonNode json = m.toJson(JSON);
    assertEquals(123, json.get("version").asLong());
    JsonNode sigs = json.get("meta_graphs").get(0).get("signatures");
    assertEquals(5, sigs.size());
    JsonNode classify = sigs.get(0);
    assertEquals("classify_x_to_y", classify.get("name").asText());
    assertTrue(classify.get("inputs").get(0).get("shape").isNull());
    assertTrue(classify.get("inputs").get(0).get("unknown_rank").asBoolean());
    assertEquals("[-1,1]", classify.get("outputs").get(0).get("shape").toString());
    assertEquals("DT_FLOAT", classify.get("outputs").get(0).get("dtype").asText());
  }

  @Test
  void otherFixtures() throws Exception {
    String tf2 = SavedModelInspection.of(Fixtures.fixture("tfserving_saved_model_half_plus_two_tf2_cpu")).format();
    assertTrue(tf2.contains("written by TensorFlow 2.14.0") && tf2.contains("  signature '__saved_model_init_op'\n")
        && tf2.contains("    input  x: DT_FLOAT [1] (serving_default_x:0)"), tf2);
    String counter = SavedModelInspection.of(Fixtures.fixture("tfserving_saved_model_counter")).format();
    assertTrue(counter.contains("    output output: DT_FLOAT_REF [] (counter:0)")
        && counter.contains("    input  delta: DT_FLOAT unknown rank (delta:0)"), counter);
    String three = SavedModelInspection.of(Fixtures.fixture("tfserving_saved_model_half_plus_three")).format();
    assertTrue(three.contains("  signature 'tensorflow/serving/regress': method tensorflow/serving/regress\n"
        + "    input  inputs: DT_FLOAT [] (tf_example:0)"), "the malformed signature as it is declared:\n" + three);
    SavedModelInspection matrix = SavedModelInspection.of(Fixtures.fixture("tfserving_matrix_half_plus_two/1"));
    assertEquals(List.of(1L), List.copyOf(matrix.versions().keySet()), "the version folder's siblings");
    assertFalse(matrix.hasVariables(), "a SavedModel of constants");
    assertTrue(matrix.format().contains("    input  x: DT_FLOAT [-1,3,3] (x:0)"), matrix.format());
    Path tfjava = Fixtures.fixture("tfjava_saved_model_using_python/model");
    SavedModelInspection java = SavedModelInspection.of(tfjava);
    assertEquals(-1, java.version(), "a version folder whose name is not a number");
    assertTrue(java.format().contains("versions: none numbered; showing " + tfjava)
        && java.format().contains("  signature 'add': method tensorflow/serving/predict\n"
            + "    input  a: DT_FLOAT unknown rank (add_a:0)\n    input  b: DT_FLOAT unknown rank (add_b:0)\n"
            + "    output output_0: DT_FLOAT unknown rank (PartitionedCall:0)"), java.format());
    assertTrue(java.toJson(JSON).get("version").isNull());
    assertFalse(SavedModelInspection.isSavedModel(Fixtures.fixture("tfjava_saved_model_using_python")),
        "a folder without saved_model.pb or numbered versions");
    assertFalse(SavedModelInspection.isSavedModel(Fixtures.fixture("t2t_transformer_test_ckpt")));
    FileNotFoundException none = assertThrows(FileNotFoundException.class,
        () -> SavedModelInspection.of(Fixtures.fixture("tfjava_saved_model_using_python")));
    assertTrue(none.getMessage().contains("no SavedModel in"), none.getMessage());
  }

  @Test
  void aSavedModelTheExporterWrites() throws Exception {
    VitConfig vit = (VitConfig) Presets.get("vit-mnist");
    ModelSpec spec = ModelSpec.dense(vit);
    RestPredictTest.checkpoint(spec, new BatchShape(2, 1, 1), tmp.resolve("ckpt/model.ckpt-1"));
    Path base = tmp.resolve("serving");
    for (int version : new int[] {1, 3}) {
      SavedModelExporter.export(spec, tmp.resolve("ckpt"), base, ExportOptions.defaults().withBatch(2)
          .withVersion(version).withVerify(false), null, line -> { });
    }
    Files.createDirectories(base.resolve(".4.stage-1-x")).resolve("saved_model.pb").toFile().createNewFile();
    SavedModelInspection m = SavedModelInspection.of(base);
    assertEquals(List.of(1L, 3L), List.copyOf(m.versions().keySet()), "a stage is not a version");
    assertEquals(base.resolve("3"), m.dir());
    String text = m.format();
    for (String line : List.of("versions: 1, 3; showing version 3 " + base.resolve("3"),
        "  signature 'score': method tensorflow/serving/predict",
        "    input  images: DT_FLOAT [-1," + vit.imageSize() + "," + vit.imageSize() + "," + vit.channels() + "]",
        "    input  labels: DT_INT32 [-1]",
        "    output classes: DT_INT64",
        "    output log_likelihood: DT_FLOAT")) {
      assertTrue(text.contains(line), "expected '" + line + "' in:\n" + text);
    }
    SavedModelInspection one = SavedModelInspection.of(base.resolve("1"));
    assertEquals(List.of(1L, 3L), List.copyOf(one.versions().keySet()), "a version folder shows its siblings");
    assertEquals(1, one.version());
    assertTrue(one.hasVariables());
  }
}
