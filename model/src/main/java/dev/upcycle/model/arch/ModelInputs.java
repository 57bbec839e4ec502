package dev.upcycle.model.arch;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The placeholders one step feeds, by architecture (unused ones are null):
 * T5 {@code inputs [B, Li]}, {@code decoder_inputs [B, Lt]}, {@code targets [B, Lt]};
 * LM {@code inputs [B, L]}, {@code targets [B, L]}; ViT {@code images [B, H, W, C]}, {@code labels [B]}.
 */
public record ModelInputs<T extends TFloating>(
    Placeholder<TInt32> inputs,
    Placeholder<TInt32> decoderInputs,
    Placeholder<TInt32> targets,
    Placeholder<T> images,
    Placeholder<TInt32> labels) {

  public static <T extends TFloating> ModelInputs<T> create(Ops tf, ModelSpec spec, BatchShape shape, Class<T> dtype) {
    Ops in = tf.withSubScope("inputs");
    if (spec.arch() instanceof VitConfig v) {
      return new ModelInputs<>(null, null, null,
          in.withName("images").placeholder(dtype, Placeholder.shape(Shape.of(shape.batch(), v.imageSize(),
              v.imageSize(), v.channels()))),
          in.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(shape.batch()))));
    }
    int targetLength = spec.arch() instanceof T5Config ? shape.targetLength() : shape.inputLength();
    return new ModelInputs<>(
        in.withName("inputs").placeholder(TInt32.class, Placeholder.shape(Shape.of(shape.batch(), shape.inputLength()))),
        spec.arch() instanceof T5Config
            ? in.withName("decoder_inputs").placeholder(TInt32.class,
                Placeholder.shape(Shape.of(shape.batch(), targetLength)))
            : null,
        in.withName("targets").placeholder(TInt32.class, Placeholder.shape(Shape.of(shape.batch(), targetLength))),
        null, null);
  }

  /** The placeholders this model has (the null ones left out), in component order: what a step feeds. */
  public java.util.List<Placeholder<?>> placeholders() {
    java.util.List<Placeholder<?>> out = new java.util.ArrayList<>();
    for (Placeholder<?> p : java.util.Arrays.asList(inputs, decoderInputs, targets, images, labels)) {
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }
}
