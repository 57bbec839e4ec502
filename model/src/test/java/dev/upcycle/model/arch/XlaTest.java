package dev.upcycle.model.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.model.moe.Fetch;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.model.testing.TensorAssert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.proto.StepStats;
import org.tensorflow.types.TFloat32;

/**
 * XLA auto-clustering with the project's flags ({@link SessionConfigs#CPU_XLA_FLAGS}, which Surefire
 * sets and bin/upcycle defaults to) gives the same loss and gradients as plain TF (|diff| ≤ 1e-5 +
 * 1e-3·|x| in float32: fusion reorders sums), the step really runs compiled clusters (_XlaRun nodes
 * in the step stats), and MatMul stays a TensorFlow kernel outside them (only fusible ops are
 * clustered).
 */
class XlaTest {

  @Test
  void theBuildAndBinUpcycleRunWithTheProjectsXlaFlags() throws Exception {
    assertEquals(SessionConfigs.CPU_XLA_FLAGS, SessionConfigs.xlaFlags(), "Surefire's TF_XLA_FLAGS (pom.xml)");
    Path script = Fixtures.testdataDir().getParent().resolve("bin/upcycle");
    String text = Files.readString(script);
    assertTrue(text.contains("export TF_XLA_FLAGS=\"${TF_XLA_FLAGS:-" + SessionConfigs.CPU_XLA_FLAGS + "}\""),
        script + " defaults TF_XLA_FLAGS to SessionConfigs.CPU_XLA_FLAGS");
  }

  @Test
  void xlaOnAndOffAgreeAndAClusterIsCompiled() {
    assertTrue(SessionConfigs.cpuJitEnabled(), "the test JVM must have TF_XLA_FLAGS=--tf_xla_cpu_global_jit");
    ModelSpec spec = ModelSpec.sparse(Presets.get("t5-tiny"), MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
    BatchShape shape = new BatchShape(2, 16, 8);
    List<double[]> off = run(spec, shape, false, null);
    List<String> executed = new ArrayList<>();
    List<double[]> on = run(spec, shape, true, executed);
    for (int i = 0; i < off.size(); i++) {
      TensorAssert.assertClose(i == 0 ? "loss" : "gradient " + i, off.get(i), on.get(i), 1e-5, 1e-3);
    }
    assertTrue(executed.stream().anyMatch(n -> n.contains("_XlaRun") || n.contains("XlaRun")),
        "no _XlaRun node in the step stats; nodes seen include " + executed.subList(0, Math.min(20, executed.size())));
    // --tf_xla_ops_to_cluster=FUSIBLE: the matmuls run as TF (oneDNN) kernels, not inside a cluster
    assertTrue(executed.stream().anyMatch(n -> n.contains(" = MatMul(") || n.contains(" = _MklMatMul(")),
        "no MatMul kernel outside the XLA clusters; nodes seen include "
            + executed.subList(0, Math.min(20, executed.size())));
  }

  private static List<double[]> run(ModelSpec spec, BatchShape shape, boolean xla, List<String> executed) {
    try (ModelGraph<TFloat32> m = ModelGraph.build(spec, shape, TFloat32.class, false, 5, true, xla).initialize();
        SyntheticBatch batch = new SyntheticBatch(spec, m.inputs, shape, 9)) {
      List<double[]> out = new ArrayList<>();
      for (int rep = 0; rep < 2; rep++) { // the second run uses the compiled program
        var runner = batch.feed(m.session.runner()).fetch(m.totalLoss);
        for (var g : m.gradients) {
          runner.fetch(g);
        }
        if (executed != null && rep == 1) {
          runner.setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build());
          try (var r = runner.runAndFetchMetadata()) {
            RunMetadata meta = r.getMetadata().orElseThrow();
            StepStats stats = meta.getStepStats();
            stats.getDevStatsList().forEach(d -> {
              for (NodeExecStats n : d.getNodeStatsList()) {
                executed.add(n.getNodeName() + " " + n.getTimelineLabel());
              }
            });
            collect(r, out);
          }
        } else {
          try (var r = runner.run()) {
            if (rep == 1) {
              collect(r, out);
            }
          }
        }
      }
      return out;
    }
  }

  private static void collect(org.tensorflow.Result r, List<double[]> out) {
    for (int i = 0; i < r.size(); i++) {
      out.add(Fetch.doubles(r.get(i)));
    }
  }
}
