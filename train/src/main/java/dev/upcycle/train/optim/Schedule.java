package dev.upcycle.train.optim;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Locale;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * A learning-rate schedule as a function of the step counter {@code s} (the number of updates
 * applied before this one, i.e. the value of {@code state/step}; it continues from a restored
 * checkpoint). Built both as graph ops ({@link #build}) and in Java ({@link #at}).
 *
 * <ul>
 *   <li>{@code RSQRT}: {@code base / sqrt(max(s, warmup))} (T5X {@code rsqrt_decay}; base 1.0,
 *       warmup 10000 by default): constant {@code base/sqrt(warmup)} until {@code warmup}, then
 *       inverse square root decay.
 *   <li>{@code CONSTANT}: {@code base}.
 *   <li>{@code LINEAR}: linear warmup {@code base·min(1, (s+1)/warmup)} (none when warmup = 0),
 *       then linear from {@code base} at {@code warmup} to {@code end} at {@code decaySteps},
 *       {@code end} after.
 *   <li>{@code COSINE}: the same warmup, then {@code end + (base-end)·(1+cos(π·f))/2} with
 *       {@code f = clamp((s-warmup)/(decaySteps-warmup), 0, 1)}.
 * </ul>
 *
 * @param kind the shape of the curve
 * @param base the peak (LINEAR, COSINE, CONSTANT) or scale (RSQRT) learning rate
 * @param warmup warmup steps (RSQRT: the plateau length)
 * @param decaySteps the step where LINEAR / COSINE reach {@code end} (> warmup; unused otherwise)
 * @param end the final learning rate of LINEAR / COSINE
 */
public record Schedule(Kind kind, double base, long warmup, long decaySteps, double end) {

  /** Schedule shapes. */
  public enum Kind {
    RSQRT, CONSTANT, LINEAR, COSINE;

    /** Parses {@code rsqrt}, {@code constant}, {@code linear}, {@code cosine} (any case). */
    public static Kind parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown schedule '" + text + "'; expected rsqrt, constant, linear or cosine");
      }
    }
  }

  public Schedule {
    checkNotNull(kind, "schedule kind");
    checkArgument(base > 0 && Double.isFinite(base), "schedule base learning rate must be > 0, got %s", base);
    checkArgument(warmup >= 0, "warmup steps must be >= 0, got %s", warmup);
    checkArgument(kind != Kind.RSQRT || warmup >= 1, "the rsqrt schedule needs warmup >= 1, got %s", warmup);
    checkArgument(end >= 0 && Double.isFinite(end), "schedule end learning rate must be >= 0, got %s", end);
    if (kind == Kind.LINEAR || kind == Kind.COSINE) {
      checkArgument(decaySteps > warmup, "%s schedule: decaySteps %s must exceed warmup %s", kind, decaySteps, warmup);
    }
  }

  public static Schedule rsqrt(double base, long warmup) {
    return new Schedule(Kind.RSQRT, base, warmup, 0, 0);
  }

  public static Schedule constant(double lr) {
    return new Schedule(Kind.CONSTANT, lr, 0, 0, 0);
  }

  public static Schedule linear(double base, long warmup, long decaySteps, double end) {
    return new Schedule(Kind.LINEAR, base, warmup, decaySteps, end);
  }

  public static Schedule cosine(double base, long warmup, long decaySteps, double end) {
    return new Schedule(Kind.COSINE, base, warmup, decaySteps, end);
  }

  /** The learning rate at step counter {@code s}, in double precision. */
  public double at(long s) {
    return switch (kind) {
      case CONSTANT -> base;
      case RSQRT -> base / Math.sqrt(Math.max(s, warmup));
      case LINEAR, COSINE -> {
        double w = warmup == 0 ? 1 : Math.min(1.0, (s + 1.0) / warmup);
        double f = Math.min(1.0, Math.max(0.0, (double) (s - warmup) / (decaySteps - warmup)));
        double decayed = kind == Kind.LINEAR ? base + (end - base) * f
            : end + (base - end) * 0.5 * (1 + Math.cos(Math.PI * f));
        yield s < warmup ? base * w : decayed;
      }
    };
  }

  /** The learning rate as graph ops, from a scalar step counter in the compute dtype. */
  public <T extends TFloating> Operand<T> build(Ops tf, Operand<T> step, Class<T> dtype) {
    Ops s = tf.withSubScope("learning_rate");
    switch (kind) {
      case CONSTANT:
        return c(s, base, dtype);
      case RSQRT:
        return s.math.mul(c(s, base, dtype), s.math.rsqrt(s.math.maximum(step, c(s, warmup, dtype))));
      default:
        Operand<T> one = c(s, 1, dtype);
        Operand<T> zero = c(s, 0, dtype);
        Operand<T> w = warmup == 0 ? one
            : s.math.minimum(one, s.math.div(s.math.add(step, one), c(s, warmup, dtype)));
        Operand<T> f = s.math.minimum(one, s.math.maximum(zero,
            s.math.div(s.math.sub(step, c(s, warmup, dtype)), c(s, decaySteps - warmup, dtype))));
        Operand<T> decayed;
        if (kind == Kind.LINEAR) {
          decayed = s.math.add(c(s, base, dtype), s.math.mul(c(s, end - base, dtype), f));
        } else {
          Operand<T> cos = s.math.cos(s.math.mul(c(s, Math.PI, dtype), f));
          decayed = s.math.add(c(s, end, dtype), s.math.mul(c(s, 0.5 * (base - end), dtype), s.math.add(one, cos)));
        }
        return s.select(s.math.less(step, c(s, warmup, dtype)), s.math.mul(c(s, base, dtype), w), decayed);
    }
  }

  private static <T extends TFloating> Operand<T> c(Ops tf, double v, Class<T> dtype) {
    return tf.dtypes.cast(tf.constant(v), dtype);
  }
}
