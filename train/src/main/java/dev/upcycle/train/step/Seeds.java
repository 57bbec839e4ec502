package dev.upcycle.train.step;

/** Seeds derived from (run seed, step) with a SplitMix64 finaliser, so they differ per step and per use. */
public final class Seeds {

  private Seeds() {}

  /** Seed of the data for a step. */
  public static long data(long seed, long step) {
    return mix(mix(seed ^ 0x6A09E667F3BCC908L) + step);
  }

  /** Seed of the dropout / router jitter draws of a step (fed to the graph's step seed). */
  public static long dropout(long seed, long step) {
    return mix(mix(seed ^ 0xBB67AE8584CAA73BL) + step);
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
