package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.arch.SyntheticBatch;
import dev.upcycle.provenance.Provenance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.types.TFloat32;

/**
 * {@code export --eval-capacity-factor}: the serving graph routes with the given capacity factor
 * (flaxformer's {@code eval_capacity_factor}), so its logits equal the model graph built with that
 * factor from the same weights (relative 1e-5) and differ from the trained model's; the provenance
 * records the factor and the served spec; a dense model and bad factors are refused before anything
 * is written.
 */
class EvalCapacityExportTest {

  private static final VitConfig VIT = (VitConfig) Presets.get("vit-mnist");
  private static final ModelSpec TRAINED = ModelSpec.sparse(VIT, MoeConfig.paperVit(4), SparseLayout.lastN(2),
      SparseLayout.DENSE); // Expert Choice C 2
  private static final int BATCH = 4;

  @TempDir Path tmp;

  /** {@code spec}'s graph of seed 5: its weights written to {@code folder} when not null, its logits for {@code images}. */
  private static float[] logits(ModelSpec spec, Path folder, Tensor images) throws Exception {
    try (ModelGraph<TFloat32> g = ModelGraph.build(spec, new BatchShape(BATCH, 1, 1), TFloat32.class, false, 5, false,
        false).initialize()) {
      if (folder != null) {
        try (TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(folder).resolve("model.ckpt-1"))) {
          for (var t : GraphWeights.of(g)) {
            w.write(t);
          }
          w.commit();
        }
      }
      try (Result r = g.session.runner().feed(g.inputs.images(), images).fetch(g.outputs.logits()).run()) {
        return flat((TFloat32) r.get(0));
      }
    }
  }

  private static float[] flat(TFloat32 t) {
    float[] out = new float[Math.toIntExact(t.size())];
    t.copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(out, false, false));
    return out;
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  private static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  @Test
  void servingGraphRoutesWithTheEvalCapacityFactor() throws Exception {
    ModelSpec atOne = new ModelSpec(VIT, Optional.of(TRAINED.moe().get().withCapacityFactor(1.0)),
        TRAINED.encoderLayout(), TRAINED.decoderLayout());
    Map<String, Tensor> batch = SyntheticBatch.tensors(TRAINED, new BatchShape(BATCH, 1, 1), TFloat32.class, 9);
    batch.get(SyntheticBatch.LABELS).close();
    try (TFloat32 images = (TFloat32) batch.get(SyntheticBatch.IMAGES)) {
      Path ckpt = tmp.resolve("ckpt");
      float[] trained = logits(TRAINED, ckpt, images);
      float[] expected = logits(atOne, null, images);
      assertTrue(maxAbsDiff(trained, expected) > 1e-3 * Math.max(1, maxAbs(trained)),
          "C 1 must drop tokens C 2 keeps here, or this test shows nothing");

      Path base = tmp.resolve("served");
      ExportOptions options = ExportOptions.defaults().withBatch(BATCH).withEvalCapacityFactor(1.0);
      SavedModelExporter.export(TRAINED, ckpt, base, options, null, line -> { });
      Path dir = base.resolve("1");
      try (SavedModelBundle bundle = SavedModelBundle.load(dir.toString(), "serve");
          Result out = bundle.function("serving_default").call(Map.of("images", images))) {
        float[] served = flat((TFloat32) out.get("logits").orElseThrow());
        assertTrue(maxAbsDiff(expected, served) <= 1e-5 * Math.max(1, maxAbs(expected)),
            "served logits differ from the C 1 graph's by " + maxAbsDiff(expected, served));
      }
      Provenance prov = Provenance.find(dir).orElseThrow();
      assertEquals(1.0, prov.options().get(SavedModelExporter.EVAL_CAPACITY_FACTOR_OPTION).asDouble());
      assertEquals(atOne, prov.spec().orElseThrow(), "the SavedModel records the model it serves");
      RouterConfig router = prov.spec().get().moe().get().encoderRouter();
      assertEquals(1.0, router.capacityFactor());
      assertTrue(router.renormalize(), "only the capacity factor changes");
    }
  }

  @Test
  void withoutAFactorTheTrainedModelIsServed() {
    assertSame(TRAINED, ExportOptions.defaults().servingSpec(TRAINED));
  }

  @Test
  void droplessRoutersKeepTheirSettings() {
    MoeConfig moe = MoeConfig.paperT5(4).withRouters(RouterConfig.expertChoice(2.0),
        RouterConfig.topK(2, 1.25).withDropless(true));
    MoeConfig served = moe.withCapacityFactor(1.5);
    assertEquals(1.5, served.encoderRouter().capacityFactor());
    assertEquals(moe.decoderRouter(), served.decoderRouter());
  }

  @Test
  void denseModelsAndBadFactorsAreRefused() throws Exception {
    ModelSpec dense = ModelSpec.dense(VIT);
    Path base = tmp.resolve("dense");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SavedModelExporter.export(dense,
        tmp.resolve("no-ckpt"), base, ExportOptions.defaults().withEvalCapacityFactor(1.0), null, line -> { }));
    assertTrue(e.getMessage().contains("dense"), e.getMessage());
    assertFalse(Files.exists(base), "nothing written");
    for (double bad : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
      IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
          () -> ExportOptions.defaults().withEvalCapacityFactor(bad));
      assertTrue(b.getMessage().contains("eval capacity factor"), b.getMessage());
    }
  }
}
