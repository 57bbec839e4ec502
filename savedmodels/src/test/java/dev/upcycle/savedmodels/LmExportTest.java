package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A decoder-only MoE LM served back through TensorFlow's loader: next-token logits equal the
 * training graph's logits at the prompt's last position, and the score equals a plain-Java sum of
 * log-softmax terms over the training graph's logits (relative 1e-5).
 */
class LmExportTest {

  private static final LmConfig LM = (LmConfig) Presets.get("lm-tiny");
  private static final ModelSpec MOE = ModelSpec.sparse(LM, MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER,
      SparseLayout.DENSE);
  private static final int BATCH = 3;
  private static final int LENGTH = 16;

  @TempDir Path tmp;

  @Test
  void nextTokenLogitsAndScoresMatchTheTrainingGraph() throws Exception {
    SplittableRandom rnd = new SplittableRandom(3);
    int[] k = {10, 4, 1};
    int l = 10;
    int[][] ids = new int[BATCH][l];
    for (int i = 0; i < BATCH; i++) {
      for (int t = 0; t < k[i]; t++) {
        ids[i][t] = 1 + rnd.nextInt(LM.vocabSize() - 1);
      }
    }
    // the training graph on what the serving graph builds: [0, x_1 … x_k, 0 …], positions 0..k real
    int[][] inputs = new int[BATCH][LENGTH];
    int[][] valid = new int[BATCH][LENGTH];
    for (int i = 0; i < BATCH; i++) {
      System.arraycopy(ids[i], 0, inputs[i], 1, k[i]);
      for (int t = 0; t <= k[i]; t++) {
        valid[i][t] = 1;
      }
    }
    Path ckpt = tmp.resolve("lm/model.ckpt-1");
    float[][][] logits = new float[BATCH][LENGTH][LM.vocabSize()];
    try (ModelGraph<TFloat32> g = ModelGraph.build(MOE, new BatchShape(BATCH, LENGTH, LENGTH), TFloat32.class, false,
        8, false, false).initialize();
        TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(ckpt.getParent()).resolve(ckpt.getFileName()));
        TInt32 in = TInt32.tensorOf(StdArrays.ndCopyOf(inputs));
        TInt32 tg = TInt32.tensorOf(StdArrays.ndCopyOf(valid));
        Result r = g.session.runner().feed(g.inputs.inputs(), in).feed(g.inputs.targets(), tg)
            .fetch(g.outputs.logits()).run()) {
      for (RawTensor t : GraphWeights.of(g)) {
        w.write(t);
      }
      w.commit();
      TFloat32 out = (TFloat32) r.get(0);
      for (int i = 0; i < BATCH; i++) {
        for (int t = 0; t < LENGTH; t++) {
          for (int v = 0; v < LM.vocabSize(); v++) {
            logits[i][t][v] = out.getFloat(i, t, v);
          }
        }
      }
    }

    Path base = tmp.resolve("serving/lm");
    SavedModelExporter.export(MOE, ckpt.getParent(), base,
        ExportOptions.defaults().withBatch(BATCH).withLength(LENGTH), null, line -> { });
    try (SavedModelBundle bundle = SavedModelBundle.load(base.resolve("1").toString(), "serve");
        TInt32 request = TInt32.tensorOf(StdArrays.ndCopyOf(ids));
        Result next = bundle.function("serving_default").call(Map.of("input_ids", request));
        Result score = bundle.function("score").call(Map.of("input_ids", request))) {
      TFloat32 served = (TFloat32) next.get("logits").orElseThrow();
      TFloat32 ll = (TFloat32) score.get("log_likelihood").orElseThrow();
      assertEquals(BATCH, served.shape().get(0));
      for (int i = 0; i < BATCH; i++) {
        float[] expected = logits[i][k[i]];
        double scale = 0;
        for (float v : expected) {
          scale = Math.max(scale, Math.abs(v));
        }
        for (int v = 0; v < LM.vocabSize(); v++) {
          assertEquals(expected[v], served.getFloat(i, v), 1e-5 * scale, "row " + i + " token " + v);
        }
        double sum = 0;
        for (int t = 1; t <= k[i]; t++) {
          sum += GraphWeights.logSoftmax(logits[i][t - 1], ids[i][t - 1]);
        }
        assertEquals(sum, ll.getFloat(i), 1e-5 * Math.abs(sum), "log-likelihood of row " + i);
      }
      // a row without tokens is refused with the rule
      try (TInt32 empty = TInt32.tensorOf(StdArrays.ndCopyOf(new int[][] {{5, 0}, {0, 0}}))) {
        RuntimeException e = assertThrows(RuntimeException.class,
            () -> bundle.function("serving_default").call(Map.of("input_ids", empty)).close());
        assertTrue(e.getMessage().contains("at least one non-zero id per row"), e.getMessage());
      }
    }
  }
}
