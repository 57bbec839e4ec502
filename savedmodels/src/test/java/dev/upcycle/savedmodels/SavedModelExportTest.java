package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.arch.SyntheticBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Exports checkpoints of real model graphs and serves them back through TensorFlow's SavedModel
 * loader: the served logits equal the training graph's (relative 1e-5), probabilities, classes and
 * log-likelihoods equal a plain-Java softmax / argmax / log-softmax of them (1e-5), and bad input
 * is refused before anything appears at the version folder.
 */
class SavedModelExportTest {

  private static final VitConfig VIT = (VitConfig) Presets.get("vit-mnist");
  private static final ModelSpec MOE = ModelSpec.sparse(VIT, MoeConfig.paperVit(4), SparseLayout.lastN(2),
      SparseLayout.DENSE);
  private static final int BATCH = 4;

  @TempDir Path tmp;

  /** Random weights of {@code spec} saved as a bundle (plus optimizer state the export must skip); returns logits. */
  private static float[][] checkpoint(ModelSpec spec, Path prefix, Tensor images) throws Exception {
    try (ModelGraph<TFloat32> g = ModelGraph.build(spec, new BatchShape(BATCH, 1, 1), TFloat32.class, false, 5, false,
        false).initialize();
        TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(prefix.getParent()).resolve(prefix.getFileName()))) {
      for (RawTensor t : GraphWeights.of(g)) {
        w.write(t);
        if (t.name().equals("head/kernel")) {
          w.write(t.withName("state/param_states/head/kernel/m"));
        }
      }
      w.write(new RawTensor(new TensorInfo("state/step", DType.INT64, new long[0]),
          ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 42)));
      w.commit();
      try (Result r = g.session.runner().feed(g.inputs.images(), images).fetch(g.outputs.logits()).run()) {
        return matrix((TFloat32) r.get(0));
      }
    }
  }

  private static float[][] matrix(TFloat32 t) {
    int rows = (int) t.shape().get(0);
    int cols = (int) t.shape().get(1);
    float[][] m = new float[rows][cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        m[i][j] = t.getFloat(i, j);
      }
    }
    return m;
  }

  private static TFloat32 images(int n, long seed) {
    Map<String, Tensor> batch = SyntheticBatch.tensors(MOE, new BatchShape(n, 1, 1), TFloat32.class, seed);
    batch.get(SyntheticBatch.LABELS).close();
    return (TFloat32) batch.get(SyntheticBatch.IMAGES);
  }

  private static void assertClose(float[] expected, float[] actual, double tol, String what) {
    double scale = 0;
    for (float v : expected) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < expected.length; i++) {
      assertTrue(Math.abs(expected[i] - actual[i]) <= tol * Math.max(1, scale),
          what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
    }
  }

  @Test
  void servedMoeMatchesTheTrainingGraphAndJavaReferences() throws Exception {
    Path ckpt = tmp.resolve("ckpt");
    Path base = tmp.resolve("export/vit");
    try (TFloat32 images = images(BATCH, 9)) {
      float[][] expected = checkpoint(MOE, ckpt.resolve("model.ckpt-42"), images);
      SavedModelExporter.ExportResult result = SavedModelExporter.export(MOE, ckpt, base,
          ExportOptions.defaults().withBatch(BATCH), null, line -> { });
      assertTrue(result.verified());
      Path dir = base.resolve("1");
      assertEquals(dir, result.versionDir());

      // TF Serving layout; the variables bundle holds exactly the model's weights under canonical names
      assertTrue(Files.isRegularFile(dir.resolve("saved_model.pb")));
      assertTrue(Files.isRegularFile(dir.resolve("assets.extra/provenance.json")));
      try (Stream<Path> files = Files.list(dir.resolve("variables"))) {
        assertEquals(List.of("variables.data-00000-of-00001", "variables.index"),
            files.map(p -> p.getFileName().toString()).sorted().toList());
      }
      try (TfBundleReader r = TfBundleReader.open(dir.resolve("variables/variables"))) {
        List<String> names = r.tensors().stream().map(TensorInfo::name).toList();
        assertFalse(names.stream().anyMatch(n -> n.startsWith("state/")), names.toString());
        assertTrue(names.stream().anyMatch(n -> n.startsWith("encoder/layers_3/mlp/router/")), names.toString());
        assertEquals(result.variables(), names.size());
      }
      try (Stream<Path> siblings = Files.list(base)) {
        assertEquals(List.of("1"), siblings.map(p -> p.getFileName().toString()).toList(), "no staging left");
      }
      dev.upcycle.provenance.Provenance prov = dev.upcycle.provenance.Provenance.find(dir).orElseThrow();
      assertEquals(dev.upcycle.provenance.Provenance.Kind.EXPORT, prov.kind());
      assertEquals(BATCH, prov.options().get("batch").asInt());
      assertEquals(64, prov.source().sha256().length());
      assertEquals(MOE, prov.spec().orElseThrow(), "the SavedModel records the spec it was built from");
      assertTrue(prov.outputs().stream().anyMatch(f -> f.path().equals("saved_model.pb") && f.bytes() > 0),
          prov.outputs().toString());

      try (SavedModelBundle bundle = SavedModelBundle.load(dir.toString(), "serve");
          Result out = bundle.function("serving_default").call(Map.of("images", images));
          TInt32 labels = TInt32.vectorOf(3, 0, 9, 5);
          Result score = bundle.function("score").call(Map.of("images", images, "labels", labels))) {
        float[][] logits = matrix((TFloat32) out.get("logits").orElseThrow());
        TFloat32 probs = (TFloat32) out.get("probabilities").orElseThrow();
        TInt64 classes = (TInt64) out.get("classes").orElseThrow();
        TFloat32 ll = (TFloat32) score.get("log_likelihood").orElseThrow();
        int[] label = {3, 0, 9, 5};
        for (int i = 0; i < BATCH; i++) {
          assertClose(expected[i], logits[i], 1e-5, "logits row " + i);
          double max = Double.NEGATIVE_INFINITY;
          int arg = 0;
          for (int j = 0; j < logits[i].length; j++) {
            if (logits[i][j] > max) {
              max = logits[i][j];
              arg = j;
            }
          }
          double sum = 0;
          for (float v : logits[i]) {
            sum += Math.exp(v - max);
          }
          for (int j = 0; j < logits[i].length; j++) {
            assertEquals(Math.exp(logits[i][j] - max) / sum, probs.getFloat(i, j), 1e-5, "probability " + i + "," + j);
          }
          assertEquals(arg, classes.getLong(i), "class of row " + i);
          assertEquals(logits[i][label[i]] - max - Math.log(sum), ll.getFloat(i), 1e-5, "log-likelihood " + i);
        }
      }
    }
  }

  @Test
  void smallerRequestsArePaddedAndLargerOnesRefused() throws Exception {
    ModelSpec dense = ModelSpec.dense(VIT);
    Path ckpt = tmp.resolve("dense");
    Path base = tmp.resolve("export/dense");
    try (TFloat32 full = images(BATCH, 4)) {
      float[][] expected = checkpoint(dense, ckpt.resolve("model.ckpt-1"), full);
      SavedModelExporter.export(dense, ckpt, base, ExportOptions.defaults().withBatch(BATCH).withVersion(7), null,
          line -> { });
      // the first two images alone: a dense model's rows do not depend on the rest of the batch
      float[] firstTwo = new float[2 * 28 * 28];
      full.asRawTensor().data().asFloats().read(firstTwo);
      try (SavedModelBundle bundle = SavedModelBundle.load(base.resolve("7").toString(), "serve");
          TFloat32 two = TFloat32.tensorOf(Shape.of(2, 28, 28, 1),
              org.tensorflow.ndarray.buffer.DataBuffers.of(firstTwo));
          Result out = bundle.function("serving_default").call(Map.of("images", two))) {
        float[][] logits = matrix((TFloat32) out.get("logits").orElseThrow());
        assertEquals(2, logits.length);
        for (int i = 0; i < 2; i++) {
          assertClose(expected[i], logits[i], 1e-5, "row " + i);
        }
        try (TInt32 badLabel = TInt32.vectorOf(1, 10)) {
          RuntimeException e = assertThrows(RuntimeException.class,
              () -> bundle.function("score").call(Map.of("images", two, "labels", badLabel)).close());
          assertTrue(e.getMessage().contains("labels must be one per image, each in [0, 10)"), e.getMessage());
        }
        try (TFloat32 five = TFloat32.tensorOf(Shape.of(5, 28, 28, 1))) {
          RuntimeException e = assertThrows(RuntimeException.class,
              () -> bundle.function("serving_default").call(Map.of("images", five)).close());
          assertTrue(e.getMessage().contains("request batch must hold 1 to 4 examples"), e.getMessage());
        }
      }
    }
  }

  @Test
  void badCheckpointsAreRefusedBeforeAnythingIsWritten() throws Exception {
    Path ckpt = tmp.resolve("moe");
    try (TFloat32 images = images(BATCH, 1)) {
      checkpoint(MOE, ckpt.resolve("model.ckpt-3"), images);
    }
    Path base = tmp.resolve("export/bad");
    // the MoE checkpoint exported as the dense model: router and expert weights are left over
    CheckpointFormatException wrong = assertThrows(CheckpointFormatException.class, () -> SavedModelExporter.export(
        ModelSpec.dense(VIT), ckpt, base, ExportOptions.defaults().withBatch(BATCH), null, line -> { }));
    assertTrue(wrong.getMessage().contains("model.ckpt-3") && wrong.getMessage().contains("weight(s) the model does not have")
        && wrong.getMessage().contains("encoder/layers_2/mlp/expert/wi/kernel"), wrong.getMessage());
    // a checkpoint lacking one weight
    Path partial = tmp.resolve("partial");
    try (TfBundleReader r = TfBundleReader.open(ckpt); TfBundleWriter w = TfBundleWriter.create(
        Files.createDirectories(partial).resolve("model.ckpt-3"))) {
      for (TensorInfo t : r.tensors()) {
        if (!t.name().equals("encoder/encoder_norm/scale")) {
          w.write(r.read(t.name()));
        }
      }
      w.commit();
    }
    CheckpointFormatException missing = assertThrows(CheckpointFormatException.class, () -> SavedModelExporter.export(
        MOE, partial, base, ExportOptions.defaults().withBatch(BATCH), null, line -> { }));
    assertTrue(missing.getMessage().contains("1 variable(s) missing (encoder/encoder_norm/scale)"), missing.getMessage());
    assertFalse(Files.exists(base), "nothing written: " + base);
    // an existing version folder without overwrite
    Files.createDirectories(base.resolve("1"));
    assertThrows(FileAlreadyExistsException.class, () -> SavedModelExporter.export(MOE, ckpt, base,
        ExportOptions.defaults().withBatch(BATCH), null, line -> { }));
    List<String> left = new ArrayList<>();
    try (Stream<Path> s = Files.list(base)) {
      s.forEach(p -> left.add(p.getFileName().toString()));
    }
    assertEquals(List.of("1"), left);
    assertArrayEquals(new String[0], base.resolve("1").toFile().list(), "the existing folder is untouched");
  }
}
