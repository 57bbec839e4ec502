package dev.upcycle.savedmodels;

import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.VitConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Loads an exported SavedModel with TensorFlow's own loader (the C API TF Serving's loader shares)
 * and runs each signature on a full and a one-example request, checking the output shapes.
 */
final class ExportVerifier {

  private ExportVerifier() {}

  static void verify(Path dir, ModelSpec spec, int batch, int length, int targetLength) throws IOException {
    try (SavedModelBundle bundle = SavedModelBundle.load(dir.toString(), SavedModelExporter.SERVE_TAG)) {
      for (int n : batch == 1 ? new int[] {1} : new int[] {batch, 1}) {
        if (spec.arch() instanceof VitConfig c) {
          verifyVit(dir, bundle, c, n);
        } else if (spec.arch() instanceof LmConfig c) {
          verifyLm(dir, bundle, c, n, length);
        } else {
          verifyT5(dir, bundle, n, length, targetLength);
        }
      }
    } catch (RuntimeException e) {
      throw new IOException("the exported SavedModel in " + dir + " does not load or run in TensorFlow: " + e.getMessage(),
          e);
    }
  }

  private static void verifyVit(Path dir, SavedModelBundle bundle, VitConfig c, int n) throws IOException {
    try (TFloat32 images = TFloat32.tensorOf(Shape.of(n, c.imageSize(), c.imageSize(), c.channels()));
        TInt32 labels = TInt32.vectorOf(new int[n]);
        Result predict = bundle.function(ServingGraph.DEFAULT_SIGNATURE).call(Map.of("images", images));
        Result score = bundle.function(ServingGraph.SCORE_SIGNATURE).call(Map.of("images", images,
            "labels", labels))) {
      expect(dir, predict, "logits", n, c.numClasses());
      expect(dir, predict, "probabilities", n, c.numClasses());
      expect(dir, predict, "classes", n);
      expect(dir, score, "log_likelihood", n);
    }
  }

  private static void verifyLm(Path dir, SavedModelBundle bundle, LmConfig c, int n, int length) throws IOException {
    int l = length - 1;
    int[][] ids = new int[n][l];
    for (int[] row : ids) {
      Arrays.fill(row, 0, Math.max(1, l / 2), 1);
    }
    try (TInt32 input = TInt32.tensorOf(org.tensorflow.ndarray.StdArrays.ndCopyOf(ids));
        Result predict = bundle.function(ServingGraph.DEFAULT_SIGNATURE).call(Map.of("input_ids", input));
        Result score = bundle.function(ServingGraph.SCORE_SIGNATURE).call(Map.of("input_ids", input))) {
      expect(dir, predict, "logits", n, c.vocabSize());
      expect(dir, score, "log_likelihood", n);
    }
  }

  private static void verifyT5(Path dir, SavedModelBundle bundle, int n, int length, int targetLength)
      throws IOException {
    int[][] ids = new int[n][length];
    int[][] targets = new int[n][targetLength - 1];
    for (int i = 0; i < n; i++) {
      Arrays.fill(ids[i], 0, Math.max(1, length / 2), 2);
      Arrays.fill(targets[i], 0, Math.max(1, (targetLength - 1) / 2), 2);
    }
    try (TInt32 input = TInt32.tensorOf(org.tensorflow.ndarray.StdArrays.ndCopyOf(ids));
        TInt32 target = TInt32.tensorOf(org.tensorflow.ndarray.StdArrays.ndCopyOf(targets));
        Result predict = bundle.function(ServingGraph.DEFAULT_SIGNATURE).call(Map.of("input_ids", input));
        Result score = bundle.function(ServingGraph.SCORE_SIGNATURE).call(Map.of("input_ids", input,
            "targets", target))) {
      expect(dir, predict, "output_ids", n, targetLength - 1);
      expect(dir, score, "log_likelihood", n);
    }
  }

  private static void expect(Path dir, Result result, String key, long... shape) throws IOException {
    Tensor t = result.get(key).orElseThrow(() -> new IOException(dir + ": signature output '" + key + "' is missing"));
    if (!Arrays.equals(t.shape().asArray(), shape)) {
      throw new IOException(dir + ": signature output '" + key + "' has shape " + t.shape() + "; expected "
          + Arrays.toString(shape));
    }
  }
}
