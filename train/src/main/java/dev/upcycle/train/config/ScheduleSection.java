package dev.upcycle.train.config;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.train.optim.Schedule;

/**
 * The learning-rate schedule.
 *
 * @param kind rsqrt, constant, linear or cosine
 * @param base peak (or, for rsqrt, scale) learning rate
 * @param warmup warmup steps (rsqrt: plateau length)
 * @param decaySteps where linear / cosine reach {@code end}; 0 = the run's train_steps
 * @param end final learning rate of linear / cosine
 */
public record ScheduleSection(String kind, double base, long warmup, long decaySteps, double end) {

  public ScheduleSection {
    checkNotNull(kind, "schedule.kind");
    Schedule.Kind.parse(kind);
  }

  /** T5X: rsqrt, base 1.0, warmup 10000. */
  public static ScheduleSection defaults() {
    return new ScheduleSection("rsqrt", 1.0, 10_000, 0, 0.0);
  }

  public Schedule schedule(long trainSteps) {
    return new Schedule(Schedule.Kind.parse(kind), base, warmup, decaySteps == 0 ? trainSteps : decaySteps, end);
  }
}
