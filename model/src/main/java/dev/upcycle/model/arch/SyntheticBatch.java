package dev.upcycle.model.arch;

import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import java.util.ArrayList;
import java.util.List;
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
    SplittableRandom rnd = new SplittableRandom(seed);
    if (spec.arch() instanceof VitConfig v) {
      int n = shape.batch() * v.imageSize() * v.imageSize() * v.channels();
      double[] pixels = new double[n];
      for (int i = 0; i < n; i++) {
        pixels[i] = gaussian(rnd);
      }
      Shape s = Shape.of(shape.batch(), v.imageSize(), v.imageSize(), v.channels());
      put(in.images(), floating(in.images().asOutput().type(), s, pixels));
      int[] labels = new int[shape.batch()];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = rnd.nextInt(v.numClasses());
      }
      put(in.labels(), TInt32.vectorOf(labels));
      return;
    }
    int vocab = spec.arch() instanceof T5Config t ? t.vocabSize() : ((LmConfig) spec.arch()).vocabSize();
    int[][] inputs = tokens(rnd, shape.batch(), shape.inputLength(), vocab);
    if (spec.arch() instanceof T5Config) {
      int[][] targets = tokens(rnd, shape.batch(), shape.targetLength(), vocab);
      put(in.inputs(), TInt32.tensorOf(StdArrays.ndCopyOf(inputs)));
      put(in.decoderInputs(), TInt32.tensorOf(StdArrays.ndCopyOf(shiftRight(targets))));
      put(in.targets(), TInt32.tensorOf(StdArrays.ndCopyOf(targets)));
    } else {
      put(in.inputs(), TInt32.tensorOf(StdArrays.ndCopyOf(shiftRight(inputs))));
      put(in.targets(), TInt32.tensorOf(StdArrays.ndCopyOf(inputs)));
    }
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
