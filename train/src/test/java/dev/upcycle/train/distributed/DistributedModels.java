package dev.upcycle.train.distributed;

import dev.upcycle.model.graph.XlaMode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.train.optim.Adafactor;
import dev.upcycle.train.optim.Schedule;
import dev.upcycle.train.step.TrainStep;

/** Tiny models for the distribution tests: global batch 4, so 2 replicas get 2 examples (16 tokens) each. */
final class DistributedModels {

  private DistributedModels() {}

  static final BatchShape SHAPE = new BatchShape(4, 8, 8);
  /** Routing groups of 8 tokens: inside one replica's 16-token shard, as in one process. */
  static final int GROUP_SIZE = 8;

  static T5Config t5() {
    return ((T5Config) Presets.get("t5-tiny")).withLayers(2, 2).withVocabSize(128);
  }

  static ModelSpec dense() {
    return ModelSpec.dense(t5());
  }

  /** Expert Choice (C = 2) in the encoder, Top-2 (C = 1.25) in the decoder, 4 experts. */
  static ModelSpec moe() {
    return ModelSpec.sparse(t5(), MoeConfig.paperT5(4).withGroupSize(GROUP_SIZE), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
  }

  static TrainStep.Options options() {
    return new TrainStep.Options(Adafactor.defaults().withMinDimSizeToFactor(8), Schedule.rsqrt(0.1, 10), 1.0, XlaMode.OFF,
        1e-4, 0.0, 7);
  }
}
