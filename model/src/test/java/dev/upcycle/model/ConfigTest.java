package dev.upcycle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableSortedSet;
import org.junit.jupiter.api.Test;

/** Config records validate at construction with messages that name the value; layouts and capacities. */
class ConfigTest {

  @Test
  void layoutsPickTheRightLayers() {
    assertEquals(ImmutableSortedSet.of(1, 3, 5, 7, 9, 11), SparseLayout.EVERY_OTHER.sparseLayers(12));
    assertEquals(ImmutableSortedSet.of(1), SparseLayout.EVERY_OTHER.sparseLayers(3));
    assertEquals(ImmutableSortedSet.of(6, 7, 8, 9, 10, 11), SparseLayout.lastN(6).sparseLayers(12));
    assertEquals(ImmutableSortedSet.of(0, 4), SparseLayout.parse("4, 0").sparseLayers(5));
    assertEquals(SparseLayout.lastN(3), SparseLayout.parse("last_3"));
    assertEquals(SparseLayout.EVERY_OTHER, SparseLayout.parse("every_other"));
    assertTrue(SparseLayout.parse("none").sparseLayers(4).isEmpty());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SparseLayout.layers(2, 9).sparseLayers(4));
    assertTrue(e.getMessage().contains("9") && e.getMessage().contains("4"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SparseLayout.lastN(5).sparseLayers(4));
    e = assertThrows(IllegalArgumentException.class, () -> SparseLayout.parse("every_third"));
    assertTrue(e.getMessage().contains("every_third"), e.getMessage());
  }

  @Test
  void capacities() {
    // expert choice: round(C·S/E); top-K: ceil(C·K·S/E)
    assertEquals(1024, RouterConfig.expertChoice(2.0).capacity(4096, 8));
    assertEquals(2, RouterConfig.expertChoice(1.0).capacity(10, 4), "rint(2.5) = 2 (round half to even)");
    assertEquals(1, RouterConfig.expertChoice(0.1).capacity(4, 8), "at least one slot");
    assertEquals(1280, RouterConfig.topK(2, 1.25).capacity(4096, 8));
    assertEquals(3, RouterConfig.topK(2, 1.0).capacity(5, 4));
  }

  @Test
  void expertChoiceIsRefusedInCausalStacks() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MoeConfig(4, RouterConfig.expertChoice(2), RouterConfig.expertChoice(2), 4096, 0, 0.01, 0.001));
    assertTrue(e.getMessage().contains("causal"), e.getMessage());
  }

  @Test
  void invalidValuesNameTheField() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new T5Config(0, 8, 2, 4, 1, 1, 10, 32, 128, 0));
    assertTrue(e.getMessage().contains("dModel"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> RouterConfig.topK(2, -1));
    assertTrue(e.getMessage().contains("capacityFactor"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new VitConfig(30, 7, 3, 10, 64, 128, 4, 2, VitConfig.Pooling.GAP, 0));
    assertTrue(e.getMessage().contains("patchSize"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> MoeConfig.paperT5(0));
    assertTrue(e.getMessage().contains("numExperts"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Presets.get("t5-huge"));
    assertTrue(e.getMessage().contains("t5-huge") && e.getMessage().contains("t5-base"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ModelSpec.sparse(Presets.get("t5-tiny"), MoeConfig.paperT5(2), SparseLayout.layers(5), SparseLayout.DENSE));
    assertTrue(e.getMessage().contains("5"), e.getMessage());
  }

  @Test
  void presetsHaveThePublishedT5Sizes() {
    T5Config base = (T5Config) Presets.get("t5-base");
    assertEquals(768, base.dModel());
    assertEquals(2048, base.dFf());
    assertEquals(12, base.encoderLayers());
    assertEquals(32128, base.vocabSize());
    T5Config large = (T5Config) Presets.get("t5-large");
    assertEquals(1024, large.dModel());
    assertEquals(2816, large.dFf());
    assertEquals(24, large.decoderLayers());
    VitConfig b16 = (VitConfig) Presets.get("vit-b16");
    assertEquals(196, b16.numPatches());
  }
}
