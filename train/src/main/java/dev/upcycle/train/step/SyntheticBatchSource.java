package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.SyntheticBatch;
import org.tensorflow.types.family.TFloating;

/**
 * Random batches from {@link SyntheticBatch} seeded by (seed, step): the same step always gives the
 * same batch. For tests and benchmarks.
 */
public final class SyntheticBatchSource implements BatchSource {

  private final ModelSpec spec;
  private final BatchShape shape;
  private final Class<? extends TFloating> imageType;
  private final long seed;

  public SyntheticBatchSource(ModelSpec spec, BatchShape shape, Class<? extends TFloating> imageType, long seed) {
    this.spec = checkNotNull(spec, "spec");
    this.shape = checkNotNull(shape, "shape");
    this.imageType = checkNotNull(imageType, "imageType");
    this.seed = seed;
  }

  @Override
  public Batch nextBatch(long step) {
    return new Batch(SyntheticBatch.tensors(spec, shape, imageType, Seeds.data(seed, step)));
  }
}
