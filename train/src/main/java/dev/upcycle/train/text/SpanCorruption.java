package dev.upcycle.train.text;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.SplittableRandom;

/**
 * T5's span-corruption objective ({@code t5.data.preprocessors.span_corruption}): a random set of
 * spans covering {@code round(length * noiseDensity)} tokens, in
 * {@code round(noiseTokens / meanNoiseSpanLength)} spans, is replaced in the inputs by one sentinel
 * per span; the targets hold each sentinel followed by the tokens it replaced. Both end with EOS.
 *
 * <p>Mask semantics follow {@code random_spans_noise_mask}: length is raised to at least 2 for the
 * computation, noise tokens are clamped to {@code [1, length - 1]}, spans to at least 1, the
 * noise and non-noise token counts are each split into that many non-empty segments at random,
 * interleaved non-noise first (so the first span is never noise), then the mask is cut back to the
 * real length. Rounding is half-to-even on float32 products, as {@code tf.round}. One deviation:
 * the span count is also capped at the number of non-noise tokens, so no segment is empty.
 *
 * <p>Sentinels count down from {@code vocabSize - 1} ({@code <extra_id_0>}), T5's convention for a
 * vocabulary whose last {@code extraIds} ids are sentinels; more spans than {@code extraIds} is an
 * error. Randomness: {@link SplittableRandom} seeded with the caller's seed, so a given
 * (tokens, seed) pair always gives the same result.
 */
public final class SpanCorruption {

  /** Objective settings; see the class comment. */
  public record Config(double noiseDensity, double meanNoiseSpanLength, int vocabSize,
      int extraIds, int eosId) {
    public Config {
      checkArgument(noiseDensity > 0 && noiseDensity < 1,
          "noiseDensity %s must be in (0, 1)", noiseDensity);
      checkArgument(meanNoiseSpanLength >= 1,
          "meanNoiseSpanLength %s must be >= 1", meanNoiseSpanLength);
      checkArgument(extraIds >= 1, "extraIds %s must be >= 1", extraIds);
      checkArgument(vocabSize > extraIds, "vocabSize %s must exceed extraIds %s",
          vocabSize, extraIds);
      checkArgument(eosId >= 0 && eosId < vocabSize - extraIds,
          "eosId %s must be a base vocabulary id in [0, %s)", eosId, vocabSize - extraIds);
    }

    /** T5 defaults: density 0.15, mean span 3. */
    public static Config t5(int vocabSize, int extraIds, int eosId) {
      return new Config(0.15, 3.0, vocabSize, extraIds, eosId);
    }
  }

  /** Corrupted example: inputs and targets (both EOS-terminated) and the mask statistics. */
  public record Result(int[] inputs, int[] targets, int noiseTokens, int noiseSpans) {}

  /** Raw token count that fills exactly an inputs length, and the targets length it gives. */
  public record Lengths(int tokensLength, int inputsLength, int targetsLength) {}

  private final Config config;

  public SpanCorruption(Config config) {
    this.config = checkNotNull(config, "config");
  }

  public Config config() {
    return config;
  }

  /** The sentinel of noise span {@code spanIndex} ({@code <extra_id_spanIndex>}). */
  public int sentinel(int spanIndex) {
    checkArgument(spanIndex >= 0 && spanIndex < config.extraIds(),
        "span index %s needs a sentinel, but only %s extra ids exist", spanIndex,
        config.extraIds());
    return config.vocabSize() - 1 - spanIndex;
  }

  /** Corrupts {@code tokens} (base-vocabulary ids, no EOS) with the randomness of {@code seed}. */
  public Result corrupt(int[] tokens, long seed) {
    checkNotNull(tokens, "tokens");
    int base = config.vocabSize() - config.extraIds();
    for (int i = 0; i < tokens.length; i++) {
      checkArgument(tokens[i] >= 0 && tokens[i] < base,
          "token %s at position %s is outside the base vocabulary [0, %s) (sentinels live above)",
          tokens[i], i, base);
    }
    boolean[] mask = noiseMask(tokens.length, config.noiseDensity(),
        config.meanNoiseSpanLength(), seed);
    int[] inputs = new int[tokens.length + 1];
    int[] targets = new int[tokens.length * 2 + 2];
    int ni = 0;
    int nt = 0;
    int noiseSpans = 0;
    int nonNoiseSpans = 0;
    int noiseTokens = 0;
    for (int i = 0; i < tokens.length; i++) {
      boolean first = i == 0 || mask[i - 1] != mask[i];
      if (mask[i]) {
        noiseTokens++;
        if (first) {
          inputs[ni++] = sentinel(noiseSpans++);
        }
        targets[nt++] = tokens[i];
      } else {
        inputs[ni++] = tokens[i];
        if (first) {
          targets[nt++] = sentinel(nonNoiseSpans++);
        }
      }
    }
    inputs[ni++] = config.eosId();
    targets[nt++] = config.eosId();
    return new Result(java.util.Arrays.copyOf(inputs, ni), java.util.Arrays.copyOf(targets, nt),
        noiseTokens, noiseSpans);
  }

  /**
   * T5's {@code random_spans_noise_mask}: {@code true} marks a noise token. See the class
   * comment for the exact counts.
   */
  public static boolean[] noiseMask(int length, double noiseDensity, double meanNoiseSpanLength,
      long seed) {
    checkArgument(length >= 0, "length %s must be >= 0", length);
    int len = Math.max(length, 2);
    int numNoise = (int) Math.rint((float) len * (float) noiseDensity);
    numNoise = Math.min(Math.max(numNoise, 1), len - 1);
    int numSpans = (int) Math.rint((float) numNoise / (float) meanNoiseSpanLength);
    numSpans = Math.max(numSpans, 1);
    int numNonNoise = len - numNoise;
    numSpans = Math.min(numSpans, numNonNoise);
    SplittableRandom rng = new SplittableRandom(seed);
    int[] noiseLengths = randomSegmentation(numNoise, numSpans, rng);
    int[] nonNoiseLengths = randomSegmentation(numNonNoise, numSpans, rng);
    boolean[] mask = new boolean[len];
    int pos = 0;
    for (int s = 0; s < numSpans; s++) {
      pos += nonNoiseLengths[s];
      for (int k = 0; k < noiseLengths[s]; k++) {
        mask[pos++] = true;
      }
    }
    return java.util.Arrays.copyOf(mask, length);
  }

  /** Splits {@code items} into {@code segments} non-empty segments at random boundaries. */
  private static int[] randomSegmentation(int items, int segments, SplittableRandom rng) {
    // items - 1 gaps; segments - 1 of them (chosen by a shuffle) start a new segment
    boolean[] starts = new boolean[Math.max(items - 1, 0)];
    for (int i = 0; i < segments - 1; i++) {
      starts[i] = true;
    }
    for (int i = starts.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      boolean t = starts[i];
      starts[i] = starts[j];
      starts[j] = t;
    }
    int[] lengths = new int[segments];
    int seg = 0;
    lengths[0] = 1;
    for (boolean s : starts) {
      if (s) {
        seg++;
      }
      lengths[seg]++;
    }
    return lengths;
  }

  /**
   * T5's {@code random_spans_helper}: the largest raw token count whose corrupted inputs
   * (non-noise tokens + one sentinel per span + EOS) fit {@code inputsLength}, and the targets
   * length it implies (noise tokens + one sentinel per span + EOS). For 512: 568 tokens, 114
   * targets.
   */
  public static Lengths lengthsFor(int inputsLength, double noiseDensity,
      double meanNoiseSpanLength) {
    checkArgument(inputsLength >= 2, "inputsLength %s must be >= 2", inputsLength);
    int tokens = inputsLength - 1;
    while (corruptedLengths(tokens + 1, noiseDensity, meanNoiseSpanLength)[0] <= inputsLength) {
      tokens++;
    }
    int[] io = corruptedLengths(tokens, noiseDensity, meanNoiseSpanLength);
    return new Lengths(tokens, io[0], io[1]);
  }

  private static int[] corruptedLengths(int tokens, double density, double mean) {
    int noise = (int) Math.rint(tokens * density);
    int spans = (int) Math.rint(noise / mean);
    return new int[] {tokens - noise + spans + 1, noise + spans + 1};
  }
}
