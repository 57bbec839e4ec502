package dev.upcycle.train.step;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.train.optim.Adafactor;
import dev.upcycle.train.optim.Schedule;

/** Small models for train tests (seconds on two cores). */
final class TinyModels {

  private TinyModels() {}

  static final BatchShape SHAPE = new BatchShape(2, 8, 8);

  /** t5-tiny with 1 + 1 layers and a 128-token vocabulary, MoE with 4 experts in layer... */
  static T5Config t5() {
    return ((T5Config) Presets.get("t5-tiny")).withLayers(2, 2).withVocabSize(128);
  }

  static ModelSpec t5Moe() {
    return ModelSpec.sparse(t5(), MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER, SparseLayout.EVERY_OTHER);
  }

  static VitConfig vit() {
    return new VitConfig(8, 4, 1, 3, 16, 32, 2, 2, VitConfig.Pooling.GAP, 0.0);
  }

  static TrainStep.Options options(XlaMode xla) {
    return new TrainStep.Options(Adafactor.defaults().withMinDimSizeToFactor(8), Schedule.rsqrt(0.1, 10), 1.0, xla,
        1e-4, 0.0, 7);
  }
}
