package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
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
 * A T5 MoE served back through TensorFlow's loader: greedy {@code output_ids} equal a greedy
 * decode driven from Java over the training graph (one run per step, argmax of the logits at the
 * step), and {@code score} equals a plain-Java sum of log-softmax terms over the training graph's
 * teacher-forced logits (relative 1e-5).
 */
class T5ExportTest {

  private static final T5Config T5 = (T5Config) Presets.get("t5-tiny");
  private static final ModelSpec MOE = ModelSpec.sparse(T5, MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER,
      SparseLayout.EVERY_OTHER);
  private static final int BATCH = 2;
  private static final int IN = 8;
  private static final int TGT = 6;
  private static final int EOS = 1;

  @TempDir Path tmp;

  @Test
  void greedyOutputAndScoreMatchTheTrainingGraph() throws Exception {
    SplittableRandom rnd = new SplittableRandom(5);
    int[][] inputs = new int[BATCH][IN];
    int[] k = {IN, 3};
    for (int i = 0; i < BATCH; i++) {
      for (int t = 0; t < k[i]; t++) {
        inputs[i][t] = 2 + rnd.nextInt(T5.vocabSize() - 2);
      }
    }
    int[][] targets = new int[BATCH][TGT - 1];
    int[] kt = {TGT - 1, 2};
    for (int i = 0; i < BATCH; i++) {
      for (int t = 0; t < kt[i]; t++) {
        targets[i][t] = 2 + rnd.nextInt(T5.vocabSize() - 2);
      }
    }

    Path ckpt = tmp.resolve("t5/model.ckpt-1");
    int[][] expectedIds = new int[BATCH][TGT - 1];
    double[] expectedScore = new double[BATCH];
    try (ModelGraph<TFloat32> g = ModelGraph.build(MOE, new BatchShape(BATCH, IN, TGT), TFloat32.class, false, 4, false,
        false).initialize();
        TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(ckpt.getParent()).resolve(ckpt.getFileName()));
        TInt32 enc = TInt32.tensorOf(StdArrays.ndCopyOf(inputs))) {
      for (RawTensor t : GraphWeights.of(g)) {
        w.write(t);
      }
      w.commit();
      // greedy reference: decoder input [0, y_1 … y_step, 0 …], positions 0..step real
      int[][] dec = new int[BATCH][TGT];
      for (int step = 0; step < TGT - 1; step++) {
        int[][] valid = new int[BATCH][TGT];
        for (int i = 0; i < BATCH; i++) {
          for (int t = 0; t <= step; t++) {
            valid[i][t] = 1;
          }
        }
        float[][][] logits = run(g, enc, dec, valid);
        for (int i = 0; i < BATCH; i++) {
          dec[i][step + 1] = argmax(logits[i][step]);
        }
      }
      for (int i = 0; i < BATCH; i++) {
        boolean ended = false;
        for (int t = 0; t < TGT - 1; t++) {
          expectedIds[i][t] = ended ? 0 : dec[i][t + 1];
          ended |= dec[i][t + 1] == EOS;
        }
      }
      // teacher-forced score
      int[][] padded = new int[BATCH][TGT];
      int[][] shifted = new int[BATCH][TGT];
      for (int i = 0; i < BATCH; i++) {
        System.arraycopy(targets[i], 0, padded[i], 0, TGT - 1);
        System.arraycopy(targets[i], 0, shifted[i], 1, TGT - 1);
      }
      float[][][] logits = run(g, enc, shifted, padded);
      for (int i = 0; i < BATCH; i++) {
        for (int t = 0; t < kt[i]; t++) {
          expectedScore[i] += GraphWeights.logSoftmax(logits[i][t], targets[i][t]);
        }
      }
    }

    Path base = tmp.resolve("serving/t5");
    SavedModelExporter.export(MOE, ckpt.getParent(), base,
        ExportOptions.defaults().withBatch(BATCH).withLength(IN).withTargetLength(TGT), null, line -> { });
    try (SavedModelBundle bundle = SavedModelBundle.load(base.resolve("1").toString(), "serve");
        TInt32 request = TInt32.tensorOf(StdArrays.ndCopyOf(inputs));
        TInt32 tg = TInt32.tensorOf(StdArrays.ndCopyOf(targets));
        Result out = bundle.function("serving_default").call(Map.of("input_ids", request));
        Result score = bundle.function("score").call(Map.of("input_ids", request, "targets", tg))) {
      TInt32 ids = (TInt32) out.get("output_ids").orElseThrow();
      assertArrayEquals(new long[] {BATCH, TGT - 1}, ids.shape().asArray());
      for (int i = 0; i < BATCH; i++) {
        int[] row = new int[TGT - 1];
        for (int t = 0; t < TGT - 1; t++) {
          row[t] = ids.getInt(i, t);
        }
        assertArrayEquals(expectedIds[i], row, "greedy output of row " + i);
      }
      TFloat32 ll = (TFloat32) score.get("log_likelihood").orElseThrow();
      for (int i = 0; i < BATCH; i++) {
        assertEquals(expectedScore[i], ll.getFloat(i), 1e-5 * Math.abs(expectedScore[i]), "score of row " + i);
      }
      try (TInt32 tooLong = TInt32.tensorOf(StdArrays.ndCopyOf(new int[][] {new int[IN + 1]}))) {
        RuntimeException e = assertThrows(RuntimeException.class,
            () -> bundle.function("serving_default").call(Map.of("input_ids", tooLong)).close());
        assertTrue(e.getMessage().contains("input_ids must be [n, l] with l <= " + IN), e.getMessage());
      }
    }
  }

  private static float[][][] run(ModelGraph<TFloat32> g, TInt32 enc, int[][] dec, int[][] targets) {
    try (TInt32 d = TInt32.tensorOf(StdArrays.ndCopyOf(dec));
        TInt32 t = TInt32.tensorOf(StdArrays.ndCopyOf(targets));
        Result r = g.session.runner().feed(g.inputs.inputs(), enc).feed(g.inputs.decoderInputs(), d)
            .feed(g.inputs.targets(), t).fetch(g.outputs.logits()).run()) {
      TFloat32 out = (TFloat32) r.get(0);
      float[][][] a = new float[BATCH][TGT][T5.vocabSize()];
      for (int i = 0; i < BATCH; i++) {
        for (int p = 0; p < TGT; p++) {
          for (int v = 0; v < T5.vocabSize(); v++) {
            a[i][p][v] = out.getFloat(i, p, v);
          }
        }
      }
      return a;
    }
  }

  private static int argmax(float[] row) {
    int best = 0;
    for (int v = 1; v < row.length; v++) {
      if (row[v] > row[best]) {
        best = v;
      }
    }
    return best;
  }
}
