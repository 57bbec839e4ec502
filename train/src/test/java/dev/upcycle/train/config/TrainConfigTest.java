package dev.upcycle.train.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.RouterType;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.train.optim.AdamW;
import dev.upcycle.train.optim.Adafactor;
import dev.upcycle.train.optim.Schedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainConfigTest {

  @Test
  void emptyJsonGivesTheDocumentedDefaults() {
    TrainConfig c = TrainConfig.fromJson("{}");
    assertEquals(TrainConfig.defaults(), c);
    assertEquals("t5-tiny", c.model().preset());
    assertFalse(c.modelSpec().isSparse());
    assertEquals(new Schedule(Schedule.Kind.RSQRT, 1.0, 10_000, 10_000, 0.0), c.schedule().schedule(c.trainSteps()));
    Adafactor a = (Adafactor) c.optimizer().optimizer();
    assertEquals(0.8, a.decayExponent());
    assertEquals(1.0, a.clipThreshold());
    assertEquals(1e-30, a.eps1());
    assertEquals(1e-3, a.eps2());
    assertEquals(0.0, a.beta1());
    assertEquals(dev.upcycle.model.graph.XlaMode.DEFAULT, c.xlaMode());
    assertEquals(dev.upcycle.model.graph.Precision.FLOAT32, c.precisionPolicy());
    assertEquals(1e-4, c.zLoss());
  }

  @Test
  void jsonRoundTripsAndMergesOverDefaults(@TempDir Path dir) throws Exception {
    String json = "{\"model\": {\"vit\": {\"image_size\": 8, \"patch_size\": 4, \"channels\": 1, \"num_classes\": 3,"
        + " \"d_model\": 16, \"d_ff\": 32, \"num_heads\": 2, \"layers\": 2, \"pooling\": \"GAP\", \"dropout\": 0.0}},"
        + " \"moe\": {\"num_experts\": 4, \"encoder_layout\": \"last_1\"},"
        + " \"optimizer\": {\"name\": \"adamw\", \"adamw\": {\"weight_decay\": 0.1}},"
        + " \"schedule\": {\"kind\": \"cosine\", \"base\": 0.001, \"warmup\": 10}, \"train_steps\": 100}";
    Path f = dir.resolve("c.json");
    Files.writeString(f, json);
    TrainConfig c = TrainConfig.load(f);
    assertTrue(c.modelSpec().arch() instanceof VitConfig);
    assertEquals(4, c.modelSpec().moe().orElseThrow().numExperts());
    assertEquals(RouterType.EXPERT_CHOICE, c.modelSpec().moe().get().encoderRouter().type());
    AdamW w = (AdamW) c.optimizer().optimizer();
    assertEquals(0.1, w.weightDecay());
    assertEquals(0.9, w.beta1(), "unspecified adamw keys keep defaults");
    assertEquals(100, c.schedule().schedule(c.trainSteps()).decaySteps(), "decay_steps 0 = train_steps");
    assertEquals(c, TrainConfig.fromJson(c.toJson()));
  }

  /** xla takes off|auto|module, and the booleans of configs written before the modes existed. */
  @Test
  void xlaModesAndPrecisionParse() {
    assertEquals("module", TrainConfig.fromJson("{\"xla\": \"module\"}").xla());
    assertEquals("auto", TrainConfig.fromJson("{\"xla\": true}").xla());
    assertEquals("off", TrainConfig.fromJson("{\"xla\": false}").xla());
    assertEquals("bfloat16", TrainConfig.defaults().withOverrides(Map.of("precision", "bfloat16")).precision());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromJson("{\"xla\": \"fast\"}"));
    assertTrue(e.getMessage().contains("off, auto, module"), e.getMessage());
    IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromJson("{\"precision\": \"float16\"}"));
    assertTrue(p.getMessage().contains("float32, bfloat16"), p.getMessage());
    IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
        () -> TrainConfig.fromJson("{\"precision\": \"bfloat16\", \"dtype\": \"float64\"}"));
    assertTrue(d.getMessage().contains("needs dtype float32"), d.getMessage());
  }

  @Test
  void overridesByDottedKeys() {
    TrainConfig c = TrainConfig.defaults().withOverrides(Map.of("optimizer.name", "adamw", "schedule.base", "0.01",
        "moe.num_experts", "8", "xla", "false", "model.preset", "t5-small", "moe.decoder_router.k", "1"));
    assertEquals("adamw", c.optimizer().name());
    assertEquals(0.01, c.schedule().base());
    assertEquals(8, c.moe().numExperts());
    assertEquals(dev.upcycle.model.graph.XlaMode.OFF, c.xlaMode());
    assertEquals(512, ((T5Config) c.modelSpec().arch()).dModel());
    assertEquals(1, c.modelSpec().moe().get().decoderRouter().k());
  }

  @Test
  void badValuesGiveMessagesNamingTheKey() {
    assertMessage("unknown config key 'optimizer.nme'", () -> TrainConfig.defaults().withOverrides(
        Map.of("optimizer.nme", "adamw")));
    assertMessage("batch_size must be >= 1", () -> TrainConfig.fromJson("{\"batch_size\": 0}"));
    assertMessage("batch_size", () -> TrainConfig.defaults().withOverrides(Map.of("batch_size", "eight")));
    assertMessage("optimizer.name must be adafactor or adamw", () -> TrainConfig.fromJson(
        "{\"optimizer\": {\"name\": \"sgd\"}}"));
    assertMessage("unknown model preset 't5-huge'", () -> TrainConfig.fromJson("{\"model\": {\"preset\": \"t5-huge\"}}"));
    assertMessage("learning_rte", () -> TrainConfig.fromJson("{\"learning_rte\": 1}"));
    assertMessage("expert choice routing cannot be used in a causal", () -> TrainConfig.fromJson(
        "{\"moe\": {\"num_experts\": 2, \"decoder_router\": {\"type\": \"expert_choice\", \"k\": 1}}}"));
    assertMessage("moe.decoder_router: expert choice takes k = 1", () -> TrainConfig.fromJson(
        "{\"moe\": {\"num_experts\": 2, \"decoder_router\": {\"type\": \"expert_choice\"}}}"));
    assertMessage("dtype must be float32 or float64", () -> TrainConfig.fromJson("{\"dtype\": \"bfloat16\"}"));
    assertMessage("moe.encoder_router: dropless routing applies to top-K routers only", () -> TrainConfig.fromJson(
        "{\"xla\": false, \"moe\": {\"num_experts\": 2, \"encoder_router\": {\"dropless\": true}}}"));
    for (String xla : new String[] {"auto", "module"}) {
      assertMessage("xla: dropless MoE routing", () -> TrainConfig.fromJson(
          "{\"xla\": \"" + xla + "\", \"moe\": {\"num_experts\": 2, \"decoder_router\": {\"dropless\": true}}}"));
    }
    // XLA off (the default) trains dropless routing
    org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> TrainConfig.fromJson(
        "{\"moe\": {\"num_experts\": 2, \"decoder_router\": {\"dropless\": true}}}"));
  }

  /** dropless is read, written and round-trips; left out, configs and their JSON are as before. */
  @Test
  void droplessRouterIsOptIn() {
    TrainConfig c = TrainConfig.fromJson(
        "{\"xla\": false, \"moe\": {\"num_experts\": 4, \"decoder_router\": {\"dropless\": true}}}");
    assertTrue(c.modelSpec().moe().get().decoderRouter().dropless());
    assertFalse(c.modelSpec().moe().get().encoderRouter().dropless());
    assertEquals(c, TrainConfig.fromJson(c.toJson()));
    assertTrue(c.toJson().contains("\"dropless\""));
    assertFalse(TrainConfig.defaults().toJson().contains("dropless"), "capacity routers write no dropless key");
  }

  private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    assertTrue(ex.getMessage().contains(part), "message '" + ex.getMessage() + "' should contain '" + part + "'");
  }
}
