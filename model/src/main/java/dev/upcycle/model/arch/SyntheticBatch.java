package dev.upcycle.model.arch;

import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * A random batch for a spec, seeded: token ids in [2, vocab) with a padded tail in some rows
 * (T5 and LM), or Gaussian images with random labels (ViT). Feeds itself into a runner.
 */
public final class SyntheticBatch implements AutoCloseable {

  private final List<Operand<?>> keys = new ArrayList<>();
  private final List<Tensor> values = new ArrayList<>();

  public <T extends TFloating> SyntheticBatch(ModelSpec spec, ModelInputs<T> in, BatchShape shape, long seed) {
    Map<String, Tensor> byName = tensors(spec, shape, in.images() == null ? TFloat32.class
        : in.images().asOutput().type(), seed);
    for (Map.Entry<String, Tensor> e : byName.entrySet()) {
      Operand<?> key = switch (e.getKey()) {
        case INPUTS -> in.inputs();
        case DECODER_INPUTS -> in.decoderInputs();
        case TARGETS -> in.targets();
        case IMAGES -> in.images();
        default -> in.labels();
      };
      put(key, e.getValue());
    }
  }

  /** Feature names of {@link #tensors}, matching the placeholder names of {@link ModelInputs}. */
  public static final String INPUTS = "inputs";
  public static final String DECODER_INPUTS = "decoder_inputs";
  public static final String TARGETS = "targets";
  public static final String IMAGES = "images";
  public static final String LABELS = "labels";

  /**
   * The same random batch as the constructor makes, as tensors by feature name ({@code inputs},
   * {@code decoder_inputs}, {@code targets} for T5; {@code inputs}, {@code targets} for LM;
   * {@code images} ({@code imageType}), {@code labels} for ViT), not tied to any graph. The caller
   * closes the tensors.
   */
  public static Map<String, Tensor> tensors(ModelSpec spec, BatchShape shape, Class<?> imageType, long seed) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    SplittableRandom rnd = new SplittableRandom(seed);
    if (spec.arch() instanceof VitConfig v) {
      int n = shape.batch() * v.imageSize() * v.imageSize() * v.channels();
      double[] pixels = new double[n];
      for (int i = 0; i < n; i++) {
        pixels[i] = gaussian(rnd);
      }
      Shape s = Shape.of(shape.batch(), v.imageSize(), v.imageSize(), v.channels());
      out.put(IMAGES, floating(imageType, s, pixels));
      int[] labels = new int[shape.batch()];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = rnd.nextInt(v.numClasses());
      }
      out.put(LABELS, TInt32.vectorOf(labels));
      return out;
    }
    int vocab = spec.arch() instanceof T5Config t ? t.vocabSize() : ((LmConfig) spec.arch()).vocabSize();
    int[][] inputs = tokens(rnd, shape.batch(), shape.inputLength(), vocab);
    if (spec.arch() instanceof T5Config) {
      int[][] targets = tokens(rnd, shape.batch(), shape.targetLength(), vocab);
      out.put(INPUTS, TInt32.tensorOf(StdArrays.ndCopyOf(inputs)));
      out.put(DECODER_INPUTS, TInt32.tensorOf(StdArrays.ndCopyOf(shiftRight(targets))));
      out.put(TARGETS, TInt32.tensorOf(StdArrays.ndCopyOf(targets)));
    } else {
      out.put(INPUTS, TInt32.tensorOf(StdArrays.ndCopyOf(shiftRight(inputs))));
      out.put(TARGETS, TInt32.tensorOf(StdArrays.ndCopyOf(inputs)));
    }
    return out;
  }

  private void put(Operand<?> key, Tensor value) {
    keys.add(key);
    values.add(value);
  }

  /** Adds every feed to the runner. */
  public Session.Runner feed(Session.Runner runner) {
    for (int i = 0; i < keys.size(); i++) {
      runner.feed(keys.get(i), values.get(i));
    }
    return runner;
  }

  @Override
  public void close() {
    values.forEach(Tensor::close);
  }

  private static Tensor floating(Class<?> type, Shape s, double[] v) {
    if (type == TFloat64.class) {
      return TFloat64.tensorOf(s, t -> {
        for (int i = 0; i < v.length; i++) {
          t.asRawTensor().data().asDoubles().setDouble(v[i], i);
        }
      });
    }
    return TFloat32.tensorOf(s, t -> {
      var buf = t.asRawTensor().data().asFloats();
      for (int i = 0; i < v.length; i++) {
        buf.setFloat((float) v[i], i);
      }
    });
  }

  /** Random ids in [2, vocab); the last quarter of every other row is padding (0). */
  private static int[][] tokens(SplittableRandom rnd, int batch, int len, int vocab) {
    int[][] out = new int[batch][len];
    for (int b = 0; b < batch; b++) {
      int real = b % 2 == 1 ? Math.max(1, len - len / 4) : len;
      for (int i = 0; i < real; i++) {
        out[b][i] = 2 + rnd.nextInt(vocab - 2);
      }
    }
    return out;
  }

  private static int[][] shiftRight(int[][] x) {
    int[][] out = new int[x.length][x[0].length];
    for (int b = 0; b < x.length; b++) {
      System.arraycopy(x[b], 0, out[b], 1, x[b].length - 1);
    }
    return out;
  }

  private static double gaussian(SplittableRandom rnd) {
    double u = Math.max(rnd.nextDouble(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
  }
}
