package dev.upcycle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.Presets;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.provenance.Provenance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The README's typical job with no model flag after the first: a dense run → {@code convert} (TF
 * bundle or T5X output) → {@code train --init} → {@code export} → {@code predict}, for T5, ViT and
 * the decoder-only LM. The model spec travels in each artifact's provenance, and the SavedModel's
 * record names the training run and, as its parent, the conversion.
 */
class SelfDescribingPipelineTest {

  @ParameterizedTest(name = "{0} via {1}")
  @CsvSource({"t5-tiny, tf", "t5-tiny, t5x", "vit-mnist, tf", "vit-mnist, t5x", "lm-tiny, tf", "lm-tiny, t5x"})
  void convertTrainExportPredictWithNoModelFlags(String preset, String format, @TempDir Path tmp) throws Exception {
    Path dense = tmp.resolve("dense");
    Cli first = Cli.run("train", "--synthetic", "--no-xla", "--steps", "1", "--output", dense.toString(),
        "--set", "model.preset=" + preset, "--set", "batch_size=2", "--set", "input_length=16",
        "--set", "target_length=8");
    assertEquals(0, first.code(), first.err());
    Path denseStep = dense.resolve("checkpoints/step_000001");
    Provenance denseRecord = Provenance.find(denseStep).orElseThrow();
    assertEquals(Provenance.Kind.TRAIN, denseRecord.kind());
    assertEquals(ModelSpec.dense(Presets.get(preset)), denseRecord.spec().orElseThrow());

    Path moe = tmp.resolve("moe");
    Cli convert = Cli.run("convert", "--from", denseStep.toString(), "--to", moe.toString(), "--experts", "2",
        "--layout", "last_1", "--format", format);
    assertEquals(0, convert.code(), convert.err());
    assertTrue(convert.out().contains("model spec recorded"), convert.out());
    Provenance converted = Provenance.find(moe).orElseThrow();
    ModelSpec moeSpec = converted.spec().orElseThrow();
    assertEquals(Presets.get(preset), moeSpec.arch());
    assertEquals(2, moeSpec.moe().orElseThrow().numExperts());
    assertEquals(Provenance.Kind.TRAIN, converted.parent().kind(), "the dense run is the conversion's parent");

    if (format.equals("tf") && preset.startsWith("vit")) {
      // the converted checkpoint itself exports with no model flag (it used to build a T5 graph)
      Cli direct = Cli.run("export", "--checkpoint", moe.toString(), "--to", tmp.resolve("direct").toString(),
          "--batch", "2");
      assertEquals(0, direct.code(), direct.err());
      assertEquals(moeSpec, Provenance.find(tmp.resolve("direct/1")).orElseThrow().spec().orElseThrow());
    }

    Path run = tmp.resolve("run");
    Cli train = Cli.run("train", "--init", moe.toString(), "--synthetic", "--no-xla", "--steps", "3",
        "--output", run.toString(), "--set", "batch_size=2", "--set", "input_length=16", "--set", "target_length=8");
    assertEquals(0, train.code(), train.err());
    Path step = run.resolve("checkpoints/step_000003");
    assertTrue(Files.isDirectory(step), train.out());

    Path base = tmp.resolve("serving");
    Cli export = Cli.run("export", "--checkpoint", step.toString(), "--to", base.toString(), "--batch", "2");
    assertEquals(0, export.code(), export.err());
    Provenance served = Provenance.find(base.resolve("1")).orElseThrow();
    assertEquals(Provenance.Kind.EXPORT, served.kind());
    assertEquals(moeSpec, served.spec().orElseThrow());
    assertEquals(Provenance.Kind.TRAIN, served.parent().kind());
    assertEquals(run.toAbsolutePath().normalize().toString(), served.parent().options().get("run_dir").asText());
    assertEquals(3, served.parent().options().get("step").asLong());
    assertEquals(Provenance.Kind.CONVERT, served.parent().parent().kind(), "export <- train <- convert");
    assertEquals(moeSpec, served.parent().parent().spec().orElseThrow());
    assertEquals(Provenance.Kind.TRAIN, served.parent().parent().parent().kind(), "... <- the dense run");

    // inspect tells the same story from the files alone
    Cli inspect = Cli.run("inspect", base.resolve("1").toString());
    assertEquals(0, inspect.code(), inspect.err());
    assertTrue(inspect.out().contains("model spec: from provenance: ") && inspect.out().contains("moe.num_experts=2"),
        inspect.out());
    assertTrue(inspect.out().matches("(?s).*provenance: export .* <- train .* <- convert .* <- train .*"),
        inspect.out());
    // a SavedModel: its versions and signatures first (saved_model_cli show --all)
    assertTrue(inspect.out().contains("versions: 1; showing version 1 ")
        && inspect.out().contains("  signature 'serving_default': method tensorflow/serving/predict\n")
        && inspect.out().contains("  signature 'score': method tensorflow/serving/predict\n"), inspect.out());
    Cli json = Cli.run("inspect", "--json", moe.toString());
    assertEquals(0, json.code(), json.err());
    JsonNode report = new ObjectMapper().readTree(json.out());
    assertEquals("provenance", report.get("model_spec").get("from").asText());
    assertEquals(2, report.get("model_spec").get("spec").get("moe").get("num_experts").asInt());
    assertEquals("convert", report.get("provenance").get("kind").asText());

    Path request = tmp.resolve("request.json");
    Files.writeString(request, "{\"instances\": [" + instance(Presets.get(preset)) + "]}");
    Cli predict = Cli.run("predict", "--model", base.toString(), "--request", request.toString());
    assertEquals(0, predict.code(), predict.err() + predict.out());
    JsonNode predictions = new ObjectMapper().readTree(predict.out()).get("predictions");
    assertEquals(1, predictions.size(), predict.out());
    JsonNode row = predictions.get(0);
    if (Presets.get(preset) instanceof T5Config) {
      assertEquals(7, row.size(), "greedy output ids, target_length 8 - 1: " + row);
    } else if (Presets.get(preset) instanceof LmConfig lm) {
      assertEquals(lm.vocabSize(), row.size(), "next-token logits");
    } else {
      assertEquals(((VitConfig) Presets.get(preset)).numClasses(), row.get("logits").size(), row.toString());
    }
  }

  private static String instance(Object arch) {
    if (arch instanceof VitConfig v) {
      String pixel = "[0.5]";
      String line = "[" + String.join(",", java.util.Collections.nCopies(v.imageSize(), pixel)) + "]";
      return "[" + String.join(",", java.util.Collections.nCopies(v.imageSize(), line)) + "]";
    }
    return List.of(5, 9, 12).toString();
  }
}
