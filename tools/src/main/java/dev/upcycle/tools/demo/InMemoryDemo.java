package dev.upcycle.tools.demo;

import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.arch.SyntheticBatch;
import dev.upcycle.model.moe.MoeLayerStats;
import dev.upcycle.plan.Rule;
import dev.upcycle.plan.SessionUpcycle;
import dev.upcycle.plan.UpcycleOptions;
import java.io.PrintWriter;
import java.util.Locale;
import org.tensorflow.Result;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;

/**
 * Upcycles small random dense models in memory and shows what happens: a dense T5 and a dense ViT
 * are built with random weights, turned into MoE models by the plan {@code convert} runs
 * ({@link SessionUpcycle}: experts = copies of the dense MLP, fresh routers; the paper's routers),
 * and both run a forward + backward pass. It prints losses,
 * gradient norms, the share of tokens each expert took and the function-preservation check.
 */
public final class InMemoryDemo {

  /** The seed of the upcycle (fresh routers). */
  static final long UPCYCLE_SEED = 0;

  private final PrintWriter out;
  private final boolean xla;

  public InMemoryDemo(PrintWriter out, boolean xla) {
    this.out = out;
    this.xla = xla;
  }

  /** Returns true when every function-preservation check passed. */
  public boolean run() {
    boolean ok = true;
    MoeConfig t5Moe = MoeConfig.paperT5(8);
    ok &= model("T5 (t5-tiny)", Presets.get("t5-tiny"), t5Moe,
        t5Moe.withRouters(RouterConfig.expertChoice(8).withRenormalize(true), RouterConfig.topK(2, 4).withRenormalize(true)),
        new BatchShape(4, 32, 16));
    MoeConfig vitMoe = MoeConfig.paperVit(8);
    ok &= model("ViT (vit-mnist)", Presets.get("vit-mnist"), vitMoe,
        vitMoe.withRouters(RouterConfig.expertChoice(8).withRenormalize(true), vitMoe.decoderRouter()),
        new BatchShape(8, 1, 1));
    return ok;
  }

  private boolean model(String title, ArchitectureConfig arch, MoeConfig paper, MoeConfig fullCapacity,
      BatchShape shape) {
    out.printf("== %s, E = %d, every other layer sparse%n", title, paper.numExperts());
    ModelSpec dense = ModelSpec.dense(arch);
    UpcycleOptions options = UpcycleOptions.defaults(paper.numExperts())
        .withLayouts(SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER).withSeed(UPCYCLE_SEED);
    ModelSpec moe = ModelSpec.sparse(arch, paper, options.encoderLayout(), options.decoderLayout());
    ModelSpec preserving = ModelSpec.sparse(arch, fullCapacity, options.encoderLayout(), options.decoderLayout());
    try (ModelGraph<TFloat32> d = ModelGraph.build(dense, shape, TFloat32.class, true, 1, true, xla).initialize();
        ModelGraph<TFloat32> m = ModelGraph.build(moe, shape, TFloat32.class, true, 2, true, xla).initialize();
        ModelGraph<TFloat32> p = ModelGraph.build(preserving, shape, TFloat32.class, false, 3, false, xla)
            .initialize();
        SyntheticBatch denseBatch = new SyntheticBatch(dense, d.inputs, shape, 7);
        SyntheticBatch moeBatch = new SyntheticBatch(moe, m.inputs, shape, 7);
        SyntheticBatch checkBatch = new SyntheticBatch(preserving, p.inputs, shape, 7)) {
      SessionUpcycle.Result upcycled = SessionUpcycle.apply(d.session, d.store, m.session, m.store, options);
      SessionUpcycle.apply(d.session, d.store, p.session, p.store, options);
      out.printf(Locale.ROOT, "dense: %,d parameters; MoE: %,d parameters (%d variables copied, %d tiled to experts, "
          + "%d routers fresh)%n", d.store.parameterCount(), m.store.parameterCount(),
          upcycled.count(Rule.Kind.COPY), upcycled.count(Rule.Kind.TILE), upcycled.count(Rule.Kind.FRESH_ROUTER));
      double[] denseLogits;
      try (Result r = forwardBackward(d, denseBatch, "dense")) {
        denseLogits = floats(r.get(1));
      }
      try (Result r = forwardBackward(m, moeBatch, "MoE  ")) {
        int k = 2 + m.gradients.length;
        for (MoeLayerStats<TFloat32> s : m.outputs.moeLayers()) {
          float[] share = floatsOf(r.get(k++));
          float dropped = ((TFloat32) r.get(k++)).getFloat();
          StringBuilder sb = new StringBuilder();
          for (float f : share) {
            sb.append(String.format(Locale.ROOT, " %4.1f%%", 100 * f));
          }
          out.printf(Locale.ROOT, "  %-28s C=%d/group of %d  tokens per expert:%s  dropped %.1f%%%n",
              s.layer(), s.capacity(), s.groupSize(), sb, 100 * dropped);
        }
      }
      double[] preserved;
      try (Result r = checkBatch.feed(p.session.runner()).fetch(p.outputs.logits()).run()) {
        preserved = floats(r.get(0));
      }
      double scale = 0;
      double worst = 0;
      for (int i = 0; i < denseLogits.length; i++) {
        scale = Math.max(scale, Math.abs(denseLogits[i]));
        worst = Math.max(worst, Math.abs(denseLogits[i] - preserved[i]));
      }
      boolean pass = worst <= 1e-5 * scale;
      out.printf(Locale.ROOT, "function preservation (renormalised combine, every token routed): max |MoE - dense| "
          + "= %.2e of max |dense| %.2f -> %s%n%n", worst, scale, pass ? "PASS" : "FAIL");
      return pass;
    }
  }

  private Result forwardBackward(ModelGraph<TFloat32> g, SyntheticBatch batch, String label) {
    var runner = batch.feed(g.session.runner()).feed(g.stepSeed, org.tensorflow.types.TInt64.scalarOf(1))
        .fetch(g.totalLoss).fetch(g.outputs.logits());
    for (var grad : g.gradients) {
      runner.fetch(grad);
    }
    for (MoeLayerStats<TFloat32> s : g.outputs.moeLayers()) {
      runner.fetch(s.expertFraction()).fetch(s.droppedFraction());
    }
    Result r = runner.run();
    double sq = 0;
    for (int i = 0; i < g.gradients.length; i++) {
      for (float v : floatsOf(r.get(2 + i))) {
        sq += (double) v * v;
      }
    }
    out.printf(Locale.ROOT, "%s forward+backward: loss %.4f, gradient norm %.4f%n", label,
        ((TFloat32) r.get(0)).getFloat(), Math.sqrt(sq));
    return r;
  }

  private static double[] floats(Tensor t) {
    float[] f = floatsOf(t);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static float[] floatsOf(Tensor t) {
    float[] out = new float[(int) t.shape().size()];
    ((TFloat32) t).asRawTensor().data().asFloats().read(out);
    return out;
  }
}
