package dev.upcycle.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;

class ScheduleTest {

  @Test
  void javaFormulasMatchHandComputedValues() {
    Schedule r = Schedule.rsqrt(1.0, 10_000);
    assertEquals(0.01, r.at(0), 1e-15);
    assertEquals(0.01, r.at(10_000), 1e-15);
    assertEquals(1 / Math.sqrt(40_000), r.at(40_000), 1e-15);
    assertEquals(0.3, Schedule.constant(0.3).at(123), 0);
    Schedule lin = Schedule.linear(1.0, 10, 110, 0.0);
    assertEquals(0.1, lin.at(0), 1e-15);
    assertEquals(1.0, lin.at(10), 1e-15);
    assertEquals(0.5, lin.at(60), 1e-15);
    assertEquals(0.0, lin.at(500), 1e-15);
    Schedule cos = Schedule.cosine(2.0, 0, 100, 0.0);
    assertEquals(2.0, cos.at(0), 1e-15);
    assertEquals(1.0, cos.at(50), 1e-12);
    assertEquals(0.0, cos.at(100), 1e-12);
  }

  @Test
  void graphMatchesJava() {
    List<Schedule> all = List.of(Schedule.rsqrt(1.0, 100), Schedule.constant(0.01), Schedule.linear(0.5, 7, 40, 0.01),
        Schedule.cosine(0.5, 7, 40, 0.05), Schedule.cosine(0.5, 0, 40, 0.0));
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat64> step = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.scalar()));
      for (Schedule sc : all) {
        Operand<TFloat64> lr = sc.build(tf, step, TFloat64.class);
        for (long k : new long[] {0, 1, 5, 6, 7, 8, 20, 39, 40, 41, 99, 100, 1000, 250_000}) {
          try (TFloat64 st = TFloat64.scalarOf(k); Result r = s.runner().feed(step, st).fetch(lr).run()) {
            assertEquals(sc.at(k), ((TFloat64) r.get(0)).getDouble(), 1e-12 * Math.max(1, sc.at(k)), sc + " at " + k);
          }
        }
      }
    }
  }

  @Test
  void invalidSchedulesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> Schedule.linear(1.0, 100, 50, 0));
    assertThrows(IllegalArgumentException.class, () -> Schedule.rsqrt(1.0, 0));
    assertThrows(IllegalArgumentException.class, () -> Schedule.Kind.parse("exponential"));
  }
}
