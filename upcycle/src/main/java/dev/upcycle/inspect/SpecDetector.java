package dev.upcycle.inspect;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.T5Config;
import java.util.List;
import java.util.Optional;

/**
 * The dense architecture of a checkpoint as far as its canonical tensors fix it, for a source that
 * carries no provenance record (a T5X or Mesh-TF checkpoint from elsewhere). T5 v1.1 and the
 * decoder-only LM are fully determined except two values no tensor holds, taken at their T5 v1.1
 * defaults: {@code relative_max_distance} 128 and dropout 0. A ViT's attention heads are not (its
 * kernels are stored 2-D), so a ViT needs its spec from provenance or from the user.
 */
public final class SpecDetector {

  /** T5 v1.1's relative attention max distance, which no tensor records. */
  public static final int DEFAULT_RELATIVE_MAX_DISTANCE = 128;

  private SpecDetector() {}

  /**
   * What {@link #detect} found.
   *
   * @param architecture what the detector recognised
   * @param config the full dense architecture, when the tensors determine it
   * @param reason why {@code config} is empty
   */
  public record Detection(Architecture architecture, Optional<ArchitectureConfig> config, String reason) {}

  public static Detection detect(List<TensorInfo> tensors) {
    checkNotNull(tensors, "tensors");
    Architecture a = ArchitectureDetector.detect(tensors);
    int buckets = relativeBuckets(tensors);
    return switch (a.kind()) {
      case T5_V1_1 -> a.heads() > 0 && buckets > 0 && a.dFf() > 0
          ? found(a, new T5Config(a.dModel(), a.dFf(), a.heads(), a.innerDim() / a.heads(), a.encoderLayers(),
              a.decoderLayers(), a.vocab(), buckets, DEFAULT_RELATIVE_MAX_DISTANCE, 0.0))
          : missing(a, "no relative position table or MLP to read heads, buckets and d_ff from");
      case DECODER_LM -> a.heads() > 0 && buckets > 0 && a.dFf() > 0
          ? found(a, new LmConfig(a.dModel(), a.dFf(), a.heads(), a.innerDim() / a.heads(), a.decoderLayers(),
              a.vocab(), buckets, DEFAULT_RELATIVE_MAX_DISTANCE, 0.0))
          : missing(a, "no relative position table or MLP to read heads, buckets and d_ff from");
      case VIT -> missing(a, "a ViT's attention heads cannot be read from its 2-D kernels");
      case UNKNOWN -> missing(a, "no T5 v1.1, ViT or decoder-only LM variable layout found");
    };
  }

  /** The relative position buckets (axis 1 of {@code <stack>/relpos_bias/rel_embedding}), 0 when absent. */
  public static int relativeBuckets(List<TensorInfo> tensors) {
    for (TensorInfo t : tensors) {
      if (t.name().endsWith("/relpos_bias/rel_embedding") && t.rank() == 2) {
        return (int) t.shape()[1];
      }
    }
    return 0;
  }

  private static Detection found(Architecture a, ArchitectureConfig c) {
    return new Detection(a, Optional.of(c), "");
  }

  private static Detection missing(Architecture a, String why) {
    return new Detection(a, Optional.empty(), why);
  }
}
