package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.server.TestServers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Our exported MoE SavedModels (ViT, decoder-only LM, T5) served by {@code ModelServer} and asked
 * over HTTP (the JDK's client, REST JSON) give the training graph's outputs: ViT logits (row
 * format), LM next-token logits at each prompt's last position (columnar), T5 greedy
 * {@code output_ids} equal to a greedy decode driven step by step over the training graph, and its
 * {@code score} equal to a plain-Java sum of log-softmax terms of the teacher-forced logits
 * (relative 1e-5; the JSON carries floats with enough digits to read back exactly).
 */
class ServedExportsTest {

  @TempDir Path tmp;

  /** Random weights of the graph {@code g} saved as a TF bundle at {@code dir}/model.ckpt-1. */
  private static void save(ModelGraph<TFloat32> g, Path dir) throws Exception {
    try (TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(dir).resolve("model.ckpt-1"))) {
      for (RawTensor t : GraphWeights.of(g)) {
        w.write(t);
      }
      w.commit();
    }
  }

  private static ArrayNode json(Object array) {
    return RestJson.mapper().valueToTree(array);
  }

  private static void assertRow(float[] expected, JsonNode row, String what) {
    double scale = 0;
    for (float v : expected) {
      scale = Math.max(scale, Math.abs(v));
    }
    assertEquals(expected.length, row.size(), what);
    for (int j = 0; j < expected.length; j++) {
      assertEquals(expected[j], row.get(j).asDouble(), 1e-5 * Math.max(1, scale), what + "[" + j + "]");
    }
  }

  private static JsonNode predict(TestServers.Running s, String name, ObjectNode request) throws Exception {
    TestServers.Answer a = s.post("/v1/models/" + name + ":predict", RestJson.mapper().writeValueAsString(request));
    assertEquals(200, a.status(), a.body());
    return RestJson.mapper().readTree(a.body());
  }

  @Test
  void vitLogitsEqualTheTrainingGraph() throws Exception {
    VitConfig vit = (VitConfig) Presets.get("vit-mnist");
    ModelSpec spec = ModelSpec.sparse(vit, MoeConfig.paperVit(4), SparseLayout.lastN(2), SparseLayout.DENSE);
    int batch = 4;
    SplittableRandom rnd = new SplittableRandom(11);
    float[][][][] images = new float[batch][28][28][1];
    for (float[][][] image : images) {
      for (float[][] row : image) {
        for (float[] px : row) {
          px[0] = rnd.nextInt(512) / 256f - 1f;
        }
      }
    }
    float[][] logits = new float[batch][];
    try (ModelGraph<TFloat32> g = ModelGraph.build(spec, new BatchShape(batch, 1, 1), TFloat32.class, false, 5, false,
        false).initialize();
        TFloat32 in = TFloat32.tensorOf(StdArrays.ndCopyOf(images));
        Result r = g.session.runner().feed(g.inputs.images(), in).fetch(g.outputs.logits()).run()) {
      save(g, tmp.resolve("vit-ckpt"));
      TFloat32 out = (TFloat32) r.get(0);
      for (int i = 0; i < batch; i++) {
        logits[i] = new float[(int) out.shape().get(1)];
        for (int j = 0; j < logits[i].length; j++) {
          logits[i][j] = out.getFloat(i, j);
        }
      }
    }
    SavedModelExporter.export(spec, tmp.resolve("vit-ckpt"), tmp.resolve("serving/vit"),
        ExportOptions.defaults().withBatch(batch).withVerify(false), null, line -> { });
    try (TestServers.Running s = TestServers.Running.start(TestServers.options("vit", tmp.resolve("serving/vit")))) {
      ObjectNode request = RestJson.mapper().createObjectNode();
      request.set("instances", json(images));
      JsonNode predictions = predict(s, "vit", request).get("predictions");
      assertEquals(batch, predictions.size());
      for (int i = 0; i < batch; i++) {
        assertRow(logits[i], predictions.get(i).get("logits"), "logits of image " + i);
      }
    }
  }

  @Test
  void lmNextTokenLogitsEqualTheTrainingGraph() throws Exception {
    LmConfig lm = (LmConfig) Presets.get("lm-tiny");
    ModelSpec spec = ModelSpec.sparse(lm, MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER, SparseLayout.DENSE);
    int batch = 3;
    int length = 16;
    SplittableRandom rnd = new SplittableRandom(7);
    int[] k = {9, 3, 1};
    int[][] ids = new int[batch][10];
    int[][] inputs = new int[batch][length]; // what the serving graph runs: [0, x_1 … x_k, 0 …]
    int[][] valid = new int[batch][length];
    for (int i = 0; i < batch; i++) {
      for (int t = 0; t < k[i]; t++) {
        ids[i][t] = 1 + rnd.nextInt(lm.vocabSize() - 1);
        inputs[i][t + 1] = ids[i][t];
      }
      for (int t = 0; t <= k[i]; t++) {
        valid[i][t] = 1;
      }
    }
    float[][] expected = new float[batch][lm.vocabSize()];
    try (ModelGraph<TFloat32> g = ModelGraph.build(spec, new BatchShape(batch, length, length), TFloat32.class, false,
        8, false, false).initialize();
        TInt32 in = TInt32.tensorOf(StdArrays.ndCopyOf(inputs));
        TInt32 tg = TInt32.tensorOf(StdArrays.ndCopyOf(valid));
        Result r = g.session.runner().feed(g.inputs.inputs(), in).feed(g.inputs.targets(), tg)
            .fetch(g.outputs.logits()).run()) {
      save(g, tmp.resolve("lm-ckpt"));
      TFloat32 out = (TFloat32) r.get(0);
      for (int i = 0; i < batch; i++) {
        for (int v = 0; v < lm.vocabSize(); v++) {
          expected[i][v] = out.getFloat(i, k[i], v);
        }
      }
    }
    SavedModelExporter.export(spec, tmp.resolve("lm-ckpt"), tmp.resolve("serving/lm"),
        ExportOptions.defaults().withBatch(batch).withLength(length).withVerify(false), null, line -> { });
    try (TestServers.Running s = TestServers.Running.start(TestServers.options("lm", tmp.resolve("serving/lm")))) {
      ObjectNode request = RestJson.mapper().createObjectNode();
      request.set("inputs", json(ids));
      JsonNode outputs = predict(s, "lm", request).get("outputs");
      for (int i = 0; i < batch; i++) {
        assertRow(expected[i], outputs.get(i), "next-token logits of prompt " + i);
      }
    }
  }

  @Test
  void t5GreedyOutputAndScoreEqualTheTrainingGraph() throws Exception {
    T5Config t5 = (T5Config) Presets.get("t5-tiny");
    ModelSpec spec = ModelSpec.sparse(t5, MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER);
    int batch = 2;
    int in = 8;
    int tgt = 6;
    SplittableRandom rnd = new SplittableRandom(13);
    int[][] inputs = new int[batch][in];
    int[][] targets = new int[batch][tgt - 1];
    int[] k = {in, 4};
    int[] kt = {tgt - 1, 3};
    for (int i = 0; i < batch; i++) {
      for (int t = 0; t < k[i]; t++) {
        inputs[i][t] = 2 + rnd.nextInt(t5.vocabSize() - 2);
      }
      for (int t = 0; t < kt[i]; t++) {
        targets[i][t] = 2 + rnd.nextInt(t5.vocabSize() - 2);
      }
    }
    int[][] expectedIds = new int[batch][tgt - 1];
    double[] expectedScore = new double[batch];
    try (ModelGraph<TFloat32> g = ModelGraph.build(spec, new BatchShape(batch, in, tgt), TFloat32.class, false, 4, false,
        false).initialize();
        TInt32 enc = TInt32.tensorOf(StdArrays.ndCopyOf(inputs))) {
      save(g, tmp.resolve("t5-ckpt"));
      // greedy: decoder input [0, y_1 … y_step, 0 …] with positions 0..step real; ids after EOS (1) are 0
      int[][] dec = new int[batch][tgt];
      for (int step = 0; step < tgt - 1; step++) {
        int[][] real = new int[batch][tgt];
        for (int i = 0; i < batch; i++) {
          for (int t = 0; t <= step; t++) {
            real[i][t] = 1;
          }
        }
        float[][][] logits = t5Logits(g, enc, dec, real, t5.vocabSize());
        for (int i = 0; i < batch; i++) {
          int best = 0;
          for (int v = 1; v < t5.vocabSize(); v++) {
            best = logits[i][step][v] > logits[i][step][best] ? v : best;
          }
          dec[i][step + 1] = best;
        }
      }
      for (int i = 0; i < batch; i++) {
        boolean ended = false;
        for (int t = 0; t < tgt - 1; t++) {
          expectedIds[i][t] = ended ? 0 : dec[i][t + 1];
          ended |= dec[i][t + 1] == 1;
        }
      }
      int[][] padded = new int[batch][tgt];
      int[][] shifted = new int[batch][tgt];
      for (int i = 0; i < batch; i++) {
        System.arraycopy(targets[i], 0, padded[i], 0, tgt - 1);
        System.arraycopy(targets[i], 0, shifted[i], 1, tgt - 1);
      }
      float[][][] logits = t5Logits(g, enc, shifted, padded, t5.vocabSize());
      for (int i = 0; i < batch; i++) {
        for (int t = 0; t < kt[i]; t++) {
          expectedScore[i] += GraphWeights.logSoftmax(logits[i][t], targets[i][t]);
        }
      }
    }
    SavedModelExporter.export(spec, tmp.resolve("t5-ckpt"), tmp.resolve("serving/t5"),
        ExportOptions.defaults().withBatch(batch).withLength(in).withTargetLength(tgt).withVerify(false), null,
        line -> { });
    try (TestServers.Running s = TestServers.Running.start(TestServers.options("t5", tmp.resolve("serving/t5")))) {
      ObjectNode request = RestJson.mapper().createObjectNode();
      request.set("instances", json(inputs));
      JsonNode predictions = predict(s, "t5", request).get("predictions");
      for (int i = 0; i < batch; i++) {
        assertEquals(json(expectedIds[i]), predictions.get(i), "greedy output of row " + i);
      }
      ObjectNode score = RestJson.mapper().createObjectNode();
      score.put("signature_name", "score");
      ObjectNode named = score.putObject("inputs");
      named.set("input_ids", json(inputs));
      named.set("targets", json(targets));
      JsonNode ll = predict(s, "t5", score).get("outputs");
      for (int i = 0; i < batch; i++) {
        assertEquals(expectedScore[i], ll.get(i).asDouble(), 1e-5 * Math.abs(expectedScore[i]), "score of row " + i);
      }
    }
  }

  /** The training graph's logits [batch, target_length, vocab] for decoder inputs {@code dec}. */
  private static float[][][] t5Logits(ModelGraph<TFloat32> g, Tensor enc, int[][] dec, int[][] targets, int vocab) {
    try (TInt32 d = TInt32.tensorOf(StdArrays.ndCopyOf(dec));
        TInt32 t = TInt32.tensorOf(StdArrays.ndCopyOf(targets));
        Result r = g.session.runner().feed(g.inputs.inputs(), enc).feed(g.inputs.decoderInputs(), d)
            .feed(g.inputs.targets(), t).fetch(g.outputs.logits()).run()) {
      TFloat32 out = (TFloat32) r.get(0);
      float[][][] a = new float[dec.length][dec[0].length][vocab];
      for (int i = 0; i < dec.length; i++) {
        for (int p = 0; p < dec[0].length; p++) {
          for (int v = 0; v < vocab; v++) {
            a[i][p][v] = out.getFloat(i, p, v);
          }
        }
      }
      return a;
    }
  }
}
