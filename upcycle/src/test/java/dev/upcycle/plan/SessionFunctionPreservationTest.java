package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.arch.SyntheticBatch;
import dev.upcycle.model.moe.Fetch;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.types.TFloat32;

/**
 * DESIGN.md §5: a model upcycled in memory by the real plan ({@link SessionUpcycle}: the plan
 * builder and tensor rules of {@code convert}; experts = copies of the dense MLP, fresh routers,
 * renormalised combine weights, capacity large enough that every token is routed) computes the
 * dense model's logits. Tolerance: max |moe − dense| ≤ 1e-5 × max |dense| (float32).
 */
class SessionFunctionPreservationTest {

  static Stream<Arguments> models() {
    MoeConfig full = MoeConfig.paperT5(4)
        .withRouters(RouterConfig.expertChoice(4.0).withRenormalize(true),
            RouterConfig.topK(2, 2.0).withRenormalize(true));
    return Stream.of(
        Arguments.of("t5-tiny every_other", Presets.get("t5-tiny"), full, SparseLayout.EVERY_OTHER,
            SparseLayout.EVERY_OTHER, new BatchShape(2, 12, 8)),
        Arguments.of("t5-tiny all layers, BPR decoder", Presets.get("t5-tiny"),
            full.withRouters(full.encoderRouter(), full.decoderRouter().withBatchPrioritized(true)),
            SparseLayout.layers(0, 1), SparseLayout.layers(0, 1), new BatchShape(2, 8, 6)),
        Arguments.of("vit-mnist last_2", Presets.get("vit-mnist"), MoeConfig.paperVit(4)
            .withRouters(RouterConfig.expertChoice(4.0).withRenormalize(true), RouterConfig.topK(2, 2.0)),
            SparseLayout.lastN(2), SparseLayout.DENSE, new BatchShape(3, 1, 1)),
        Arguments.of("lm-tiny top-2", Presets.get("lm-tiny"), full, SparseLayout.EVERY_OTHER, SparseLayout.DENSE,
            new BatchShape(2, 10, 10)),
        Arguments.of("t5-tiny small groups", Presets.get("t5-tiny"), full.withGroupSize(6), SparseLayout.EVERY_OTHER,
            SparseLayout.EVERY_OTHER, new BatchShape(2, 12, 6)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void upcycledModelGivesTheDenseLogits(String label, ArchitectureConfig arch, MoeConfig moe, SparseLayout enc,
      SparseLayout dec, BatchShape shape) {
    ModelSpec denseSpec = ModelSpec.dense(arch);
    ModelSpec moeSpec = ModelSpec.sparse(arch, moe, enc, dec);
    try (ModelGraph<TFloat32> dense = ModelGraph.build(denseSpec, shape, TFloat32.class, false, 7, false, false)
            .initialize();
        ModelGraph<TFloat32> sparse = ModelGraph.build(moeSpec, shape, TFloat32.class, false, 8, false, false)
            .initialize()) {
      UpcycleOptions options = UpcycleOptions.defaults(moe.numExperts()).withLayouts(enc, dec).withSeed(3);
      SessionUpcycle.Result result = SessionUpcycle.apply(dense.session, dense.store, sparse.session, sparse.store,
          options);
      int routers = sparse.outputs.moeLayers().size();
      assertTrue(routers > 0, "the MoE model has MoE layers");
      assertEquals(routers, result.count(Rule.Kind.FRESH_ROUTER), "one fresh router per MoE layer");
      int copied = result.executed().tensorsWritten() - result.count(Rule.Kind.FRESH_ROUTER);
      assertEquals(sparse.store.variables().size() - routers, copied, "every non-router variable was copied");
      assertEquals(dense.store.variables().size(), result.count(Rule.Kind.COPY) + result.count(Rule.Kind.TILE),
          "every dense variable was copied or tiled");
      assertTrue(result.count(Rule.Kind.TILE) > 0, "some MLPs became experts");
      double[] a = logits(dense, shape);
      double[] b = logits(sparse, shape);
      assertEquals(a.length, b.length);
      double scale = 0;
      double worst = 0;
      for (int i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(a[i]));
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
      }
      assertTrue(worst <= 1e-5 * scale, label + ": max |moe - dense| = " + worst + " vs max |dense| = " + scale);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void withoutUpcyclingTheLogitsDiffer(String label, ArchitectureConfig arch, MoeConfig moe, SparseLayout enc,
      SparseLayout dec, BatchShape shape) {
    // the same comparison fails when the experts are fresh: the check above can fail
    try (ModelGraph<TFloat32> dense = ModelGraph.build(ModelSpec.dense(arch), shape, TFloat32.class, false, 7, false,
            false).initialize();
        ModelGraph<TFloat32> sparse = ModelGraph.build(ModelSpec.sparse(arch, moe, enc, dec), shape, TFloat32.class,
            false, 7, false, false).initialize()) {
      double[] a = logits(dense, shape);
      double[] b = logits(sparse, shape);
      double worst = 0;
      for (int i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
      }
      assertTrue(worst > 1e-3, label + ": fresh experts should change the logits, max diff " + worst);
    }
  }

  static double[] logits(ModelGraph<TFloat32> m, BatchShape shape) {
    try (SyntheticBatch batch = new SyntheticBatch(m.spec, m.inputs, shape, 99);
        var r = batch.feed(m.session.runner()).fetch(m.outputs.logits()).run()) {
      return Fetch.doubles(r.get(0));
    }
  }
}
