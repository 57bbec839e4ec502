package dev.upcycle.train.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SpanCorruptionTest {

  private static final int VOCAB = 32100;
  private static final int EXTRA = 100;
  private static final int EOS = 1;
  private final SpanCorruption sc = new SpanCorruption(SpanCorruption.Config.t5(VOCAB, EXTRA, EOS));

  private static int[] randomTokens(int n, long seed) {
    Random r = new Random(seed);
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = 2 + r.nextInt(31_000);
    }
    return t;
  }

  private static boolean isSentinel(int id) {
    return id >= VOCAB - EXTRA;
  }

  /** Rebuilds the original tokens: each sentinel in inputs is replaced by its span in targets. */
  private static int[] reconstruct(int[] inputs, int[] targets) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < inputs.length - 1; i++) {
      int t = inputs[i];
      if (!isSentinel(t)) {
        out.add(t);
        continue;
      }
      int k = 0;
      while (targets[k] != t) {
        k++;
      }
      for (k++; k < targets.length - 1 && !isSentinel(targets[k]); k++) {
        out.add(targets[k]);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  @Test
  void inputsAndTargetsReconstructTheOriginal() {
    for (int n : new int[] {0, 1, 2, 3, 7, 20, 100, 568, 1000}) {
      for (long seed = 0; seed < 5; seed++) {
        int[] tokens = randomTokens(n, seed * 31 + n);
        SpanCorruption.Result r = sc.corrupt(tokens, seed);
        assertEquals(EOS, r.inputs()[r.inputs().length - 1]);
        assertEquals(EOS, r.targets()[r.targets().length - 1]);
        assertArrayEquals(tokens, reconstruct(r.inputs(), r.targets()), "n=" + n + " seed=" + seed);
        long sentinelsIn = Arrays.stream(r.inputs()).filter(SpanCorruptionTest::isSentinel).count();
        assertEquals(r.noiseSpans(), sentinelsIn);
        assertEquals(n - r.noiseTokens() + r.noiseSpans() + 1, r.inputs().length);
      }
    }
  }

  @Test
  void countsFollowT5Rounding() {
    // 100 tokens: round(15.0) = 15 noise tokens, round(15 / 3) = 5 spans
    SpanCorruption.Result r = sc.corrupt(randomTokens(100, 1), 42);
    assertEquals(15, r.noiseTokens());
    assertEquals(5, r.noiseSpans());
    // 10 tokens: round(1.5) = 2 (half to even), round(2 / 3) = 1 span
    boolean[] m = SpanCorruption.noiseMask(10, 0.15, 3.0, 3);
    int noise = 0;
    for (boolean b : m) {
      noise += b ? 1 : 0;
    }
    assertEquals(2, noise);
    // 30 tokens: round(4.5) = 4 (half to even, 0.15f * 30 rounds to 4.5 in float32)
    boolean[] m30 = SpanCorruption.noiseMask(30, 0.15, 3.0, 3);
    int noise30 = 0;
    for (boolean b : m30) {
      noise30 += b ? 1 : 0;
    }
    assertEquals(Math.rint((float) 30 * 0.15f), noise30);
  }

  @Test
  void firstTokenIsNeverNoiseAndSpansAreContiguousRuns() {
    for (long seed = 0; seed < 200; seed++) {
      boolean[] m = SpanCorruption.noiseMask(57, 0.15, 3.0, seed);
      assertFalse(m[0], "seed " + seed);
      int runs = 0;
      for (int i = 0; i < m.length; i++) {
        if (m[i] && (i == 0 || !m[i - 1])) {
          runs++;
        }
      }
      assertEquals(Math.rint(Math.rint(57 * 0.15f) / 3.0f), runs, "seed " + seed);
    }
  }

  @Test
  void sentinelsCountDownFromVocabMinusOne() {
    SpanCorruption.Result r = sc.corrupt(randomTokens(200, 5), 9);
    int[] sentinels = Arrays.stream(r.inputs()).filter(SpanCorruptionTest::isSentinel).toArray();
    for (int i = 0; i < sentinels.length; i++) {
      assertEquals(VOCAB - 1 - i, sentinels[i]);
    }
    assertEquals(VOCAB - 1, r.targets()[0]);
    int[] targetSentinels = Arrays.stream(r.targets()).filter(SpanCorruptionTest::isSentinel).toArray();
    assertArrayEquals(sentinels, targetSentinels);
  }

  @Test
  void deterministicBySeedAndSeedsDiffer() {
    int[] tokens = randomTokens(300, 3);
    SpanCorruption.Result a = sc.corrupt(tokens, 123);
    SpanCorruption.Result b = sc.corrupt(tokens, 123);
    SpanCorruption.Result c = sc.corrupt(tokens, 124);
    assertArrayEquals(a.inputs(), b.inputs());
    assertArrayEquals(a.targets(), b.targets());
    assertFalse(Arrays.equals(a.inputs(), c.inputs()));
  }

  @Test
  void meanSpanLengthIsAboutThree() {
    long noise = 0;
    long spans = 0;
    for (long seed = 0; seed < 100; seed++) {
      SpanCorruption.Result r = sc.corrupt(randomTokens(500, seed), seed);
      noise += r.noiseTokens();
      spans += r.noiseSpans();
    }
    assertEquals(3.0, (double) noise / spans, 0.1);
  }

  @Test
  void lengthsMatchT5RandomSpansHelper() {
    // T5: inputs_length 512 -> tokens_length 568, targets_length 114
    SpanCorruption.Lengths l = SpanCorruption.lengthsFor(512, 0.15, 3.0);
    assertEquals(568, l.tokensLength());
    assertEquals(512, l.inputsLength());
    assertEquals(114, l.targetsLength());
    SpanCorruption.Result r = sc.corrupt(randomTokens(568, 8), 8);
    assertEquals(512, r.inputs().length);
    assertEquals(114, r.targets().length);
  }

  @Test
  void rejectsTokensThatCollideWithSentinels() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> sc.corrupt(new int[] {5, VOCAB - 1}, 0));
    assertTrue(e.getMessage().contains("position 1"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new SpanCorruption.Config(1.5, 3, VOCAB, EXTRA, EOS));
  }
}
