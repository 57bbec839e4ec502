package dev.upcycle.train.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.optim.AdamW;
import dev.upcycle.train.optim.Schedule;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.types.TFloat32;

class TrainStepTest {

  /**
   * Auto-clustering and the one-module step give the losses of plain TF over three updates (relative
   * 1e-4: XLA fuses and reorders float32 sums) and the same gradients afterwards.
   */
  @Test
  void xlaModesGiveTheSameLossesAndGradientsAsOff() {
    ModelSpec spec = TinyModels.t5Moe();
    SyntheticBatchSource data = new SyntheticBatchSource(spec, TinyModels.SHAPE, TFloat32.class, 3);
    List<List<double[]>> runs = new ArrayList<>();
    List<List<Double>> losses = new ArrayList<>();
    XlaMode[] modes = {XlaMode.OFF, XlaMode.AUTO, XlaMode.MODULE};
    for (XlaMode xla : modes) {
      try (TrainStep<TFloat32> step = TrainStep.build(spec, TinyModels.SHAPE, TFloat32.class, TinyModels.options(xla))
          .initialize()) {
        List<Double> l = new ArrayList<>();
        for (long s = 0; s < 3; s++) {
          try (Batch b = data.nextBatch(s)) {
            l.add(step.run(b, s).loss());
          }
        }
        losses.add(l);
        try (Batch b = data.nextBatch(3)) {
          runs.add(step.lossAndGradients(b, 3));
        }
      }
    }
    for (int m = 1; m < modes.length; m++) {
      for (int s = 0; s < 3; s++) {
        assertRel(losses.get(0).get(s), losses.get(m).get(s), 1e-4, modes[m] + " loss at step " + s);
      }
      assertSameGradients(runs.get(0), runs.get(m));
    }
  }

  private static void assertSameGradients(List<double[]> a, List<double[]> b) {
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      double[] x = a.get(i);
      double[] y = b.get(i);
      double scale = 0;
      for (double v : x) {
        scale = Math.max(scale, Math.abs(v));
      }
      for (int k = 0; k < x.length; k++) {
        // relative to the tensor's largest entry: tiny entries carry only rounding noise
        assertEquals(x[k], y[k], 1e-4 * Math.max(scale, 1e-6), "gradient " + i + " element " + k);
      }
    }
  }

  /**
   * Auto runs compiled clusters ({@code _XlaRun}), off none; module runs the whole step as ONE node (the
   * call, compiled: "Compiled cluster using XLA!" is logged when module runs first in a JVM).
   */
  @Test
  void xlaCompilesWhenOnAndModuleIsOneProgram() {
    assertTrue(SessionConfigs.cpuJitEnabled(), "tests run with TF_XLA_FLAGS=--tf_xla_cpu_global_jit (see pom)");
    ModelSpec spec = TinyModels.t5Moe();
    SyntheticBatchSource data = new SyntheticBatchSource(spec, TinyModels.SHAPE, TFloat32.class, 3);
    Set<String> updateKernelsOff = new HashSet<>();
    for (XlaMode xla : new XlaMode[] {XlaMode.MODULE, XlaMode.OFF, XlaMode.AUTO}) {
      try (TrainStep<TFloat32> step = TrainStep.build(spec, TinyModels.SHAPE, TFloat32.class, TinyModels.options(xla))
          .initialize(); Batch b = data.nextBatch(0)) {
        RunMetadata md = step.runTraced(b, 0);
        List<String> names = new ArrayList<>();
        Set<String> updateKernels = new HashSet<>();
        md.getStepStats().getDevStatsList().forEach(d -> {
          for (NodeExecStats n : d.getNodeStatsList()) {
            names.add(n.getNodeName() + " " + n.getTimelineLabel());
            if (n.getNodeName().startsWith("train/")) {
              updateKernels.add(n.getNodeName());
            }
          }
        });
        if (xla == XlaMode.OFF) {
          updateKernelsOff.addAll(updateKernels);
        } else if (xla == XlaMode.AUTO) {
          // the update is kept out of the clusters (XlaExclusion): its ops run as TF kernels, as with off
          // (grappler may fold a few of them away, hence not all)
          long kept = updateKernelsOff.stream().filter(updateKernels::contains).count();
          assertTrue(updateKernelsOff.size() > 100 && kept >= 0.9 * updateKernelsOff.size(),
              "auto: " + kept + " of off's " + updateKernelsOff.size() + " update kernels ran outside XLA");
        }
        List<String> xlaRun = names.stream().filter(n -> n.contains("_XlaRun")).toList();
        List<String> calls = names.stream().filter(n -> n.contains("= " + "StatefulPartitionedCall(")).toList();
        List<String> matmuls = names.stream().filter(n -> n.contains("MatMul")).toList();
        String seen = names.size() + " nodes, e.g. " + names.subList(0, Math.min(5, names.size()));
        switch (xla) {
          case OFF -> assertTrue(xlaRun.isEmpty() && calls.isEmpty() && !matmuls.isEmpty(), "off: " + seen);
          case AUTO -> assertFalse(xlaRun.isEmpty(), "auto: no _XlaRun cluster in " + seen);
          case MODULE -> {
            // the step is one compiled kernel: one call node, and none of the body's ops run as TF kernels
            // (an inlined or uncompiled function would show its MatMuls here)
            assertEquals(1, calls.size(), "module: " + seen);
            assertTrue(matmuls.isEmpty() && xlaRun.isEmpty(), "module: TF kernels of the body ran: " + matmuls);
          }
          default -> throw new IllegalStateException(xla.toString());
        }
      }
    }
  }

  @Test
  void lossFallsOnARepeatedBatchAndStepAdvances() {
    ModelSpec spec = TinyModels.t5Moe();
    SyntheticBatchSource data = new SyntheticBatchSource(spec, TinyModels.SHAPE, TFloat32.class, 5);
    TrainStep.Options o = new TrainStep.Options(AdamW.defaults(), Schedule.constant(3e-3), 0, XlaMode.OFF, 1e-4, 0, 1);
    try (TrainStep<TFloat32> step = TrainStep.build(spec, TinyModels.SHAPE, TFloat32.class, o).initialize();
        Batch b = data.nextBatch(0)) {
      StepMetrics first = step.run(b, 0);
      StepMetrics m = first;
      for (int i = 1; i < 25; i++) {
        m = step.run(b, i);
      }
      assertEquals(25, m.step());
      assertEquals(25, step.step());
      assertTrue(m.loss() < first.loss() * 0.7, "loss " + first.loss() + " -> " + m.loss());
      assertEquals(3e-3, m.learningRate(), 1e-9);
      assertTrue(first.gradNorm() > 0);
      assertEquals(2, m.moe().size(), "MoE layers: encoder layer 1 and decoder layer 1: " + m.moe());
      for (var l : m.moe()) {
        double sum = 0;
        for (double f : l.expertFraction()) {
          sum += f;
        }
        assertEquals(4, l.expertFraction().length);
        assertTrue(sum > 0.5 && sum < 1.5, l.layer() + " expert fractions sum " + sum);
      }
    }
  }

  @Test
  void nonFiniteGradientNamesStepAndVariable() {
    ModelSpec spec = ModelSpec.dense(TinyModels.t5());
    SyntheticBatchSource data = new SyntheticBatchSource(spec, TinyModels.SHAPE, TFloat32.class, 5);
    try (TrainStep<TFloat32> step = TrainStep.build(spec, TinyModels.SHAPE, TFloat32.class, TinyModels.options(XlaMode.OFF))
        .initialize(); Batch b = data.nextBatch(0)) {
      step.run(b, 0);
      String victim = "decoder/layers_1/mlp/wo/kernel";
      long[] shape = step.model().store.variable(victim).shape();
      try (TFloat32 nan = TFloat32.tensorOf(Shape.of(shape))) {
        nan.asRawTensor().data().asFloats().setFloat(Float.NaN, 3);
        step.model().store.load(step.session(), victim, nan);
      }
      NonFiniteException e = assertThrows(NonFiniteException.class, () -> step.run(b, 1));
      assertEquals(1, e.step());
      assertTrue(e.variables().contains(victim), e.getMessage());
      assertTrue(e.getMessage().contains("step 1"), e.getMessage());
    }
  }

  /** Expert choice with combine renormalisation (the paper's vision router) has a full backward pass. */
  @Test
  void vitMoeWithRenormalisedExpertChoiceTrains() {
    ModelSpec spec = ModelSpec.sparse(TinyModels.vit(), dev.upcycle.model.MoeConfig.paperVit(4),
        dev.upcycle.model.SparseLayout.EVERY_OTHER, dev.upcycle.model.SparseLayout.DENSE);
    dev.upcycle.model.arch.BatchShape shape = new dev.upcycle.model.arch.BatchShape(4, 1, 1);
    SyntheticBatchSource data = new SyntheticBatchSource(spec, shape, TFloat32.class, 2);
    try (TrainStep<TFloat32> step = TrainStep.build(spec, shape, TFloat32.class, TinyModels.options(XlaMode.OFF))
        .initialize()) {
      for (long s = 0; s < 2; s++) {
        try (Batch b = data.nextBatch(s)) {
          StepMetrics m = step.run(b, s);
          assertTrue(Double.isFinite(m.loss()) && m.gradNorm() > 0, m.toString());
          assertEquals(1, m.moe().size());
        }
      }
    }
  }

  private static void assertRel(double want, double got, double rel, String what) {
    assertEquals(want, got, rel * Math.abs(want), what);
  }
}
