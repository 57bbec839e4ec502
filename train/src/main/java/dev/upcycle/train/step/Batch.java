package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableMap;
import dev.upcycle.model.arch.ModelInputs;
import java.util.Arrays;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;

/**
 * One step's features as tensors by name, matching the placeholders of {@link ModelInputs}:
 * {@code inputs}, {@code decoder_inputs}, {@code targets} (int32 [batch, length]) for T5;
 * {@code inputs}, {@code targets} for the LM; {@code images} [batch, H, W, C] and {@code labels}
 * [batch] for ViT. Owns its tensors.
 */
public final class Batch implements AutoCloseable {

  public static final String INPUTS = "inputs";
  public static final String DECODER_INPUTS = "decoder_inputs";
  public static final String TARGETS = "targets";
  public static final String IMAGES = "images";
  public static final String LABELS = "labels";

  private final ImmutableMap<String, Tensor> features;

  public Batch(Map<String, Tensor> features) {
    checkNotNull(features, "features");
    this.features = ImmutableMap.copyOf(features);
  }

  public ImmutableMap<String, Tensor> features() {
    return features;
  }

  /** Feeds every placeholder the model has; a missing feature or a shape mismatch is an error. */
  public Session.Runner feed(Session.Runner runner, ModelInputs<?> in) {
    feed(runner, INPUTS, in.inputs());
    feed(runner, DECODER_INPUTS, in.decoderInputs());
    feed(runner, TARGETS, in.targets());
    feed(runner, IMAGES, in.images());
    feed(runner, LABELS, in.labels());
    return runner;
  }

  private void feed(Session.Runner runner, String name, Operand<?> placeholder) {
    if (placeholder == null) {
      return;
    }
    Tensor t = features.get(name);
    checkArgument(t != null, "the batch has no feature '%s' (it has %s)", name, features.keySet());
    long[] want = placeholder.shape().asArray();
    checkArgument(Arrays.equals(want, t.shape().asArray()), "batch feature '%s' has shape %s; the graph expects %s",
        name, Arrays.toString(t.shape().asArray()), Arrays.toString(want));
    runner.feed(placeholder, t);
  }

  @Override
  public void close() {
    features.values().forEach(Tensor::close);
  }
}
