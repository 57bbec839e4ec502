package dev.upcycle.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.types.TFloat32;

/** The detector on the variables of the project's own graphs and of T5 v1.1 Base shapes. */
class ArchitectureDetectorTest {

  private static List<TensorInfo> variables(ModelSpec spec) {
    try (ModelGraph<TFloat32> g = ModelGraph.build(spec, new BatchShape(1, 4, 4), TFloat32.class, false, 1, false,
        false)) {
      return g.store.variables().stream().map(v -> new TensorInfo(v.name(), DType.FLOAT32, v.shape())).toList();
    }
  }

  @Test
  void t5BaseShapes() {
    T5Config base = (T5Config) Presets.get("t5-base");
    Architecture a = ArchitectureDetector.detect(SyntheticCheckpoint.t5Params(base, DType.BFLOAT16));
    assertEquals(Architecture.Kind.T5_V1_1, a.kind());
    assertEquals(768, a.dModel());
    assertEquals(2048, a.dFf());
    assertEquals(12, a.heads());
    assertEquals(768, a.innerDim());
    assertEquals(12, a.encoderLayers());
    assertEquals(12, a.decoderLayers());
    assertEquals(32128, a.vocab());
    assertFalse(a.isMoe());
    assertTrue(a.describe().contains("12 heads x 64"), a.describe());
  }

  @Test
  void t5MoeGraphShowsItsExpertLayers() {
    T5Config tiny = (T5Config) Presets.get("t5-tiny");
    Architecture a = ArchitectureDetector.detect(variables(ModelSpec.sparse(tiny, MoeConfig.paperT5(4),
        SparseLayout.EVERY_OTHER, SparseLayout.lastN(2))));
    assertEquals(Architecture.Kind.T5_V1_1, a.kind());
    assertEquals(tiny.dFf(), a.dFf());
    assertEquals(tiny.numHeads(), a.heads());
    assertEquals(Map.of(1, 4), a.moeLayers().get("encoder"));
    assertEquals(Map.of(0, 4, 1, 4), a.moeLayers().get("decoder"));
  }

  @Test
  void vitAndLm() {
    VitConfig vit = (VitConfig) Presets.get("vit-mnist");
    Architecture v = ArchitectureDetector.detect(variables(ModelSpec.dense(vit)));
    assertEquals(Architecture.Kind.VIT, v.kind());
    assertEquals(vit.patchSize(), v.patch());
    assertEquals(vit.imageSize(), v.imageSize());
    assertEquals(vit.channels(), v.channels());
    assertEquals(vit.numClasses(), v.classes());
    assertEquals(vit.dModel(), v.dModel());
    assertEquals(vit.dFf(), v.dFf());
    assertEquals(vit.layers(), v.encoderLayers());

    Architecture lm = ArchitectureDetector.detect(variables(ModelSpec.dense(Presets.get("lm-tiny"))));
    assertEquals(Architecture.Kind.DECODER_LM, lm.kind());
    assertEquals(4, lm.decoderLayers());
    assertEquals(1024, lm.vocab());
  }
}
