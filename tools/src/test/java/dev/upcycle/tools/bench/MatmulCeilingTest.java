package dev.upcycle.tools.bench;

import dev.upcycle.model.graph.SessionConfigs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.OptimizerOptions.GlobalJitLevel;

class MatmulCeilingTest {

  @ParameterizedTest(name = "xla={0}")
  @ValueSource(booleans = {false, true})
  void graphComputesTheProduct(boolean xla) {
    int n = 33;
    try (MatmulGraph g = new MatmulGraph(n, xla, 7)) {
      g.runStep();
      float[] a = g.a();
      float[] b = g.b();
      float[] c = g.product();
      assertEquals(n * n, c.length);
      double worst = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          double ref = 0; // plain-Java reference in double precision
          for (int k = 0; k < n; k++) {
            ref += (double) a[i * n + k] * b[k * n + j];
          }
          worst = Math.max(worst, Math.abs(ref - c[i * n + j]));
        }
      }
      // |terms| <= 1, 33 float32 products summed: error well under 1e-4
      assertTrue(worst < 1e-4, "max |c - a·b| = " + worst);
    }
  }

  @ParameterizedTest(name = "xla={0}")
  @ValueSource(booleans = {false, true})
  void smallCeilingIsPositiveAndFinite(boolean xla) {
    MatmulCeiling.Measurement m = MatmulCeiling.measure(256, xla, new Timing(1, 5));
    assertTrue(Double.isFinite(m.gflops()) && m.gflops() > 0, "gflops " + m.gflops());
    assertEquals(256, m.size());
    assertEquals(xla ? "matmul/f32_256/xla" : "matmul/f32_256/noxla", m.name());
    // gflops is 2·256³ FLOPs over the median time
    assertEquals(2.0 * 256 * 256 * 256 / (m.msPerRun().median() / 1e3) / 1e9, m.gflops(), 1e-9 * m.gflops());
    BenchResult r = m.toResult(2 * m.gflops());
    assertEquals(0.5, r.fractionOfCeiling(), 1e-12);
  }

  @Test
  void flopsPerRunIsTwoNCubed() {
    assertEquals(2.0 * 2048 * 2048 * 2048, MatmulCeiling.flopsPerRun(2048), 0);
  }

  @Test
  void sessionConfigsSetTheJitLevelOnly() {
    ConfigProto on = SessionConfigs.cpu(true);
    ConfigProto off = SessionConfigs.cpu(false);
    assertEquals(GlobalJitLevel.ON_1, on.getGraphOptions().getOptimizerOptions().getGlobalJitLevel());
    assertEquals(GlobalJitLevel.OFF, off.getGraphOptions().getOptimizerOptions().getGlobalJitLevel());
    assertEquals(0, on.getIntraOpParallelismThreads());
    assertEquals(0, on.getInterOpParallelismThreads());
  }
}
