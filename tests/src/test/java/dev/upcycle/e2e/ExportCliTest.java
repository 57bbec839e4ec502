package dev.upcycle.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * {@code upcycle train}, {@code upcycle export} and {@code upcycle predict}, as a user runs them: the step
 * folder's config is used, and a REST payload is answered with the signature's numbers.
 */
class ExportCliTest {

  @Test
  void aTrainedMoeStepFolderExportsAsATfServingVersion(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("run");
    Cli train = Cli.run("train", "--synthetic", "--no-xla", "--steps", "2", "--output", run.toString(),
        "--set", "model.preset=vit-mnist", "--set", "batch_size=4", "--set", "moe.num_experts=4",
        "--set", "moe.encoder_layout=last_2", "--set", "optimizer.name=adamw");
    assertEquals(0, train.code(), train.err());
    Path step = run.resolve("checkpoints/step_000002");
    assertTrue(Files.isDirectory(step), "step folder " + step);

    Path base = tmp.resolve("serving/vit");
    Cli export = Cli.run("export", "--checkpoint", step.toString(), "--to", base.toString(), "--batch", "3",
        "--version", "5");
    assertEquals(0, export.code(), export.err());
    assertTrue(export.out().contains("loaded and run in TensorFlow"), export.out());
    assertTrue(Files.isRegularFile(base.resolve("5/saved_model.pb")));
    assertTrue(Files.isRegularFile(base.resolve("5/variables/variables.index")));
    assertTrue(Files.isRegularFile(base.resolve("5/assets.extra/provenance.json")));

    Cli again = Cli.run("export", "--checkpoint", step.toString(), "--to", base.toString(), "--version", "5");
    assertEquals(1, again.code());
    assertTrue(again.err().contains(base.resolve("5").toString()) && again.err().contains("exists"), again.err());

    // the dense config against the MoE checkpoint: refused, naming the checkpoint and what differs
    Cli wrong = Cli.run("export", "--checkpoint", step.toString(), "--to", base.toString(), "--version", "6",
        "--set", "moe.num_experts=0");
    assertEquals(1, wrong.code(), wrong.err());
    assertTrue(wrong.err().contains("moe.num_experts: the checkpoint has 4")
        && wrong.err().contains("--set moe.num_experts=0 asks for 0"), wrong.err());
    assertTrue(Files.notExists(base.resolve("6")));

    // predict: a TF Serving REST payload against the base folder (version 5 is served); the numbers are
    // those of the signature called directly (floats compared exactly after the decimal round trip)
    float[] pixels = new float[2 * 28 * 28];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (i % 17) / 16f;
    }
    StringBuilder request = new StringBuilder("{\"instances\": [");
    for (int n = 0; n < 2; n++) {
      request.append(n == 0 ? "[" : ", [");
      for (int y = 0; y < 28; y++) {
        request.append(y == 0 ? "[" : ",[");
        for (int x = 0; x < 28; x++) {
          request.append(x == 0 ? "[" : ",[").append(pixels[(n * 28 + y) * 28 + x]).append(']');
        }
        request.append(']');
      }
      request.append(']');
    }
    Path req = tmp.resolve("request.json");
    Files.writeString(req, request.append("]}").toString());
    Cli predict = Cli.run("predict", "--model", base.toString(), "--request", req.toString());
    assertEquals(0, predict.code(), predict.err() + predict.out());
    JsonNode predictions = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .readTree(predict.out()).get("predictions");
    assertEquals(2, predictions.size(), predict.out());
    try (SavedModelBundle bundle = SavedModelBundle.load(base.resolve("5").toString(), "serve");
        TFloat32 images = TFloat32.tensorOf(Shape.of(2, 28, 28, 1), DataBuffers.of(pixels));
        Result direct = bundle.function("serving_default").call(Map.of("images", images))) {
      TFloat32 logits = (TFloat32) direct.get("logits").orElseThrow();
      for (int n = 0; n < 2; n++) {
        JsonNode row = predictions.get(n).get("logits");
        assertEquals(logits.shape().get(1), row.size());
        for (int j = 0; j < row.size(); j++) {
          assertEquals(logits.getFloat(n, j), row.get(j).decimalValue().floatValue(), "logit " + n + "," + j);
        }
        assertEquals(((TInt64) direct.get("classes").orElseThrow()).getLong(n), predictions.get(n).get("classes")
            .longValue());
      }
    }

    Files.writeString(req, "{\"signature_name\": \"score\", \"instances\": [" + "[[[0.0]]]" + "]}");
    Cli bad = Cli.run("predict", "--model", base.resolve("5").toString(), "--request", req.toString());
    assertEquals(1, bad.code(), bad.out());
    assertTrue(bad.out().startsWith("{\"error\":") && bad.out().contains("images,labels"), bad.out());
  }
}
