package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.t5x.T5xCheckpointReader;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.graph.ModelVariable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.types.TFloat32;

/**
 * Converts a real dense model's checkpoint and loads it into the MoE model by name: with
 * renormalised combine weights and capacity for every token, the logits must equal the dense
 * model's (DESIGN.md §5). Tolerance: max |dense − moe| / max |dense| ≤ 1e-5 (float32 sums in
 * another order).
 */
class FunctionPreservationTest {

  private static final long STEP = 1234;

  @TempDir Path tmp;

  @Test
  void t5EveryOtherWithFourExpertsKeepsTheDenseLogits() throws Exception {
    ArchitectureConfig arch = Presets.get("t5-tiny");
    ModelSpec moe = ModelSpec.sparse(arch, MoeConfig.paperT5(4).withRouters(
            RouterConfig.expertChoice(4.0).withRenormalize(true), RouterConfig.topK(2, 2.0).withRenormalize(true)),
        SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER);
    Path out = checkPreserved(arch, moe, new BatchShape(2, 8, 6), UpcycleOptions.defaults(4).withSeed(7));
    // The T5X output holds the same tensors as the TF output.
    UpcycleOptions t5x = UpcycleOptions.defaults(4).withSeed(7).withOutputFormat(UpcycleOptions.OutputFormat.T5X);
    Path t5xOut = tmp.resolve("moe-t5x");
    ConvertJob.run(tmp.resolve("dense"), t5xOut, t5x, Optional.empty(), false, false, ProgressListener.NONE);
    assertTrue(Files.isRegularFile(t5xOut.resolve(ConvertJob.PROVENANCE_FILE)));
    try (CheckpointReader tf = TfBundleReader.open(out);
        T5xCheckpointReader t5 = T5xCheckpointReader.open(t5xOut.resolve("checkpoint_" + STEP))) {
      assertEquals(tf.tensors().size(), t5.tensors().size());
      for (TensorInfo t : tf.tensors()) {
        String t5Name = t.name().startsWith("state/") ? t.name() : "target/" + t.name();
        var a = tf.read(t.name());
        var b = t5.read(t5Name);
        assertEquals(t.dtype(), b.info().dtype(), t.name());
        assertArrayEquals(t.shape(), b.info().shape(), t.name());
        assertArrayEquals(a.bytes(), b.bytes(), t.name());
      }
    }
  }

  @Test
  void vitEveryOtherWithExpertChoiceKeepsTheDenseLogits() throws Exception {
    ArchitectureConfig arch = Presets.get("vit-mnist");
    ModelSpec moe = ModelSpec.sparse(arch, MoeConfig.paperVit(4).withRouters(
            RouterConfig.expertChoice(4.0).withRenormalize(true), RouterConfig.topK(2, 2.0).withRenormalize(true)),
        SparseLayout.EVERY_OTHER, SparseLayout.DENSE);
    checkPreserved(arch, moe, new BatchShape(3, 1, 1),
        UpcycleOptions.defaults(4).withLayouts(SparseLayout.EVERY_OTHER, SparseLayout.DENSE));
  }

  private Path checkPreserved(ArchitectureConfig arch, ModelSpec moeSpec, BatchShape shape, UpcycleOptions options)
      throws Exception {
    Path dense = tmp.resolve("dense");
    float[] denseLogits;
    try (ModelGraph<TFloat32> g = ModelGraph.build(ModelSpec.dense(arch), shape, TFloat32.class, false, 11, false,
        false).initialize()) {
      ModelCheckpoints.save(g, dense.resolve("model.ckpt-" + STEP), List.of(ModelCheckpoints.i64("state/step", STEP)));
      denseLogits = ModelCheckpoints.logits(g, 5);
    }
    Path out = tmp.resolve("moe");
    ConvertResult result = ConvertJob.run(dense, out, options, Optional.empty(), false, false, ProgressListener.NONE);
    assertTrue(result.written());
    assertEquals(STEP, result.step());
    assertTrue(Files.isRegularFile(out.resolve("model.ckpt-" + STEP + ".index")), "prefix carries the step");
    try (ModelGraph<TFloat32> g = ModelGraph.build(moeSpec, shape, TFloat32.class, false, 99, false, false)) {
      // The converted checkpoint is exactly the MoE model's variable set (plus the step).
      List<TensorInfo> expected = g.store.variables().stream()
          .map(v -> new TensorInfo(v.name(), dev.upcycle.ckpt.DType.FLOAT32, v.shape())).toList();
      try (CheckpointReader r = TfBundleReader.open(out)) {
        List<TensorInfo> written = r.tensors().stream().filter(t -> !t.name().equals("state/step")).toList();
        assertEquals(expected.stream().map(TensorInfo::name).sorted().toList(),
            written.stream().map(TensorInfo::name).toList());
        assertEquals(STEP, r.read("state/step").data().getLong(0));
        assertTrue(g.store.variables().stream().map(ModelVariable::name).anyMatch(n -> n.contains("/mlp/expert/")));
      }
      ModelCheckpoints.load(g, out);
      float[] moeLogits = ModelCheckpoints.logits(g, 5);
      assertEquals(denseLogits.length, moeLogits.length);
      double rel = ModelCheckpoints.maxRelativeDifference(denseLogits, moeLogits);
      assertTrue(rel <= 1e-5, "max relative difference " + rel);
    }
    return out;
  }
}
