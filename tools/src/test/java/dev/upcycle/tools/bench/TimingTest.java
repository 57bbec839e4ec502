package dev.upcycle.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TimingTest {

  /** A step that moves a fake clock forward by the next scripted duration (ms). */
  private static Runnable scriptedStep(AtomicLong clock, List<Double> durationsMs) {
    Iterator<Double> it = durationsMs.iterator();
    return () -> clock.addAndGet(Math.round(it.next() * 1e6));
  }

  @Test
  void warmupIsNotTimedAndStatsAreMedianMinMax() {
    AtomicLong clock = new AtomicLong(5_000);
    // two warmup runs of 1000 ms, then 5, 1, 3, 9, 2 ms
    Runnable step = scriptedStep(clock, List.of(1000.0, 1000.0, 5.0, 1.0, 3.0, 9.0, 2.0));
    AtomicInteger ticks = new AtomicInteger();
    Timing.Stats s = new Timing(2, 5, clock::get).measure(step, ticks::incrementAndGet);
    assertEquals(3.0, s.median(), 1e-9);
    assertEquals(1.0, s.min(), 1e-9);
    assertEquals(9.0, s.max(), 1e-9);
    assertEquals(7, ticks.get(), "afterEachRun once per run, warmup included");
  }

  @Test
  void medianOfEvenCountIsMeanOfMiddleTwo() {
    AtomicLong clock = new AtomicLong();
    Timing.Stats s = new Timing(0, 4, clock::get).measure(scriptedStep(clock, List.of(4.0, 1.0, 3.0, 2.0)));
    assertEquals(2.5, s.median(), 1e-9);
    assertEquals(1.0, s.min(), 1e-9);
    assertEquals(4.0, s.max(), 1e-9);
  }

  @Test
  void statsOfSamples() {
    assertEquals(new Timing.Stats(7.0, 7.0, 7.0), Timing.Stats.of(7.0));
    assertEquals(new Timing.Stats(2.0, 1.0, 10.0), Timing.Stats.of(10.0, 2.0, 1.0));
    assertThrows(IllegalArgumentException.class, Timing.Stats::of);
    assertThrows(IllegalArgumentException.class, () -> new Timing.Stats(1.0, 2.0, 3.0));
  }

  @Test
  void rejectsBadCounts() {
    assertThrows(IllegalArgumentException.class, () -> new Timing(-1, 5));
    assertThrows(IllegalArgumentException.class, () -> new Timing(0, 0));
    assertEquals(8, new Timing(3, 5).totalRuns());
  }
}
