package dev.upcycle.model.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.model.BuildInfo;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.TensorFlow;

/** A model spec survives its JSON form exactly, and bad JSON names what is wrong. */
class SpecConfigTest {

  static List<ModelSpec> specs() {
    MoeConfig bpr = MoeConfig.paperT5(8).withRouters(RouterConfig.expertChoice(1.0).withJitter(0.01),
        RouterConfig.topK(1, 2.0).withBatchPrioritized(true).withRenormalize(true)).withGroupSize(512);
    return List.of(
        ModelSpec.dense(Presets.get("t5-tiny")),
        ModelSpec.sparse(Presets.get("t5-small"), bpr, SparseLayout.EVERY_OTHER, SparseLayout.layers(0, 5)),
        ModelSpec.dense(Presets.get("vit-mnist")),
        ModelSpec.sparse(Presets.get("vit-tiny"), MoeConfig.paperVit(4), SparseLayout.lastN(2), SparseLayout.DENSE),
        ModelSpec.sparse(Presets.get("lm-tiny"), MoeConfig.paperT5(2), SparseLayout.layers(1, 3), SparseLayout.DENSE));
  }

  @Test
  void everySpecRoundTripsThroughJson() throws Exception {
    for (ModelSpec spec : specs()) {
      ObjectNode tree = SpecConfig.of(spec).toTree();
      String text = ConfigJson.MAPPER.writeValueAsString(tree);
      JsonNode back = ConfigJson.MAPPER.readTree(text);
      assertEquals(spec, SpecConfig.fromTree(back).spec(), text);
      assertTrue(tree.get("model").size() == 1 && !tree.get("model").has("preset"),
          "the model is written explicitly, not as a preset name: " + text);
    }
  }

  @Test
  void theSnakeCaseKeysAreThoseOfTheTrainConfig() {
    ObjectNode tree = SpecConfig.of(specs().get(1)).toTree();
    assertEquals(512, tree.get("model").get("t5").get("d_model").asInt());
    assertEquals(8, tree.get("moe").get("num_experts").asInt());
    assertEquals("every_other", tree.get("moe").get("encoder_layout").asText());
    assertEquals("0,5", tree.get("moe").get("decoder_layout").asText());
    assertEquals("expert_choice", tree.get("moe").get("encoder_router").get("type").asText());
    assertTrue(tree.get("moe").get("decoder_router").get("batch_prioritized").asBoolean());
  }

  @Test
  void badTreesAreErrorsNamingTheProblem() throws Exception {
    ObjectNode tree = SpecConfig.of(specs().get(1)).toTree();
    ((ObjectNode) tree.get("model").get("t5")).put("d_model", 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpecConfig.fromTree(tree));
    assertTrue(e.getMessage().contains("dModel must be >= 1, got 0"), e.getMessage());

    ObjectNode layout = SpecConfig.of(specs().get(3)).toTree();
    ((ObjectNode) layout.get("moe")).put("encoder_layout", "last_40");
    e = assertThrows(IllegalArgumentException.class, () -> SpecConfig.fromTree(layout));
    assertTrue(e.getMessage().contains("last_40"), e.getMessage());

    ObjectNode unknown = SpecConfig.of(specs().get(0)).toTree();
    unknown.put("colour", "blue");
    e = assertThrows(IllegalArgumentException.class, () -> SpecConfig.fromTree(unknown));
    assertTrue(e.getMessage().contains("colour"), e.getMessage());

    assertThrows(IllegalArgumentException.class, () -> SpecConfig.fromTree(ConfigJson.MAPPER.readTree("[1]")));
  }

  @Test
  void buildInfoNamesTheTensorFlowRuntimeTheNativeLibraryReports() {
    assertEquals(TensorFlow.version(), BuildInfo.TENSORFLOW_RUNTIME_VERSION);
    assertTrue(BuildInfo.PROJECT_VERSION.matches("\\d+\\.\\d+\\.\\d+.*"), BuildInfo.PROJECT_VERSION);
    assertTrue(BuildInfo.TENSORFLOW_JAVA_VERSION.matches("\\d+\\.\\d+\\.\\d+"), BuildInfo.TENSORFLOW_JAVA_VERSION);
  }
}
