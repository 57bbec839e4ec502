package dev.upcycle.plan;

import com.google.common.hash.Hashing;
import dev.upcycle.model.graph.Initializer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The plan's random numbers in plain Java: every stream is a {@link SplittableRandom} seeded from
 * (seed, a purpose string such as a tensor name, an index), so results do not depend on the order
 * in which tensors are converted.
 */
public final class Randoms {

  private Randoms() {}

  /** A stream for (seed, what, index). */
  public static SplittableRandom stream(long seed, String what, long index) {
    long s = Hashing.murmur3_128().newHasher().putLong(seed).putString(what, StandardCharsets.UTF_8)
        .putLong(index).hash().asLong();
    return new SplittableRandom(s);
  }

  /** A standard normal sample (Box–Muller). */
  public static double gaussian(SplittableRandom rnd) {
    double u = 1.0 - rnd.nextDouble(); // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
  }

  /**
   * The d_ff units that Drop-Upcycling re-initialises in expert {@code expert} of the MLP
   * {@code mlp}: ⌊ratio · width⌋ distinct units in [0, width), sorted. The same for every tensor of
   * that MLP (wi_0, wi_1, wi bias, wo), different per expert.
   */
  public static int[] droppedUnits(long seed, String mlp, int expert, int width, double ratio) {
    int k = (int) Math.floor(ratio * width + 1e-9);
    int[] idx = new int[width];
    for (int i = 0; i < width; i++) {
      idx[i] = i;
    }
    SplittableRandom rnd = stream(seed, mlp + "#drop", expert);
    for (int i = 0; i < k; i++) {
      int j = i + rnd.nextInt(width - i);
      int t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    int[] out = Arrays.copyOf(idx, k);
    Arrays.sort(out);
    return out;
  }

  /** Values of a fresh tensor {@code name} with {@code init}; fan-in per {@link Initializer#fanInOf}. */
  public static double[] fill(Initializer init, long[] shape, long seed, String name) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    double[] out = new double[Math.toIntExact(n)];
    if (init instanceof Initializer.Zeros) {
      return out;
    }
    if (init instanceof Initializer.Ones) {
      Arrays.fill(out, 1.0);
      return out;
    }
    double std = Initializer.stddev(init, name, shape);
    SplittableRandom rnd = stream(seed, name, 0);
    for (int i = 0; i < out.length; i++) {
      out[i] = std * gaussian(rnd);
    }
    return out;
  }
}
