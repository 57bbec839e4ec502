package dev.upcycle.inspect;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What {@link ArchitectureDetector} recognised. Sizes it could not tell are 0.
 *
 * @param kind T5 v1.1 encoder-decoder, ViT, decoder-only LM, or unknown
 * @param dModel d
 * @param dFf MLP width (of the dense MLPs, or of one expert when every MLP is MoE)
 * @param heads attention heads (from the relative position table; 0 for ViT, whose kernels do not tell)
 * @param innerDim heads · d_kv (query kernel columns)
 * @param encoderLayers layers of the encoder stack (ViT: its one stack)
 * @param decoderLayers layers of the decoder stack (LM: its one stack)
 * @param vocab token vocabulary (T5, LM)
 * @param patch ViT patch size
 * @param imageSize ViT image side (from the position table and patch)
 * @param channels ViT image channels
 * @param classes ViT classes
 * @param moeLayers per stack, layer index → expert count, for layers that are already MoE
 */
public record Architecture(Kind kind, int dModel, int dFf, int heads, int innerDim, int encoderLayers,
    int decoderLayers, int vocab, int patch, int imageSize, int channels, int classes,
    Map<String, SortedMap<Integer, Integer>> moeLayers) {

  /** The architectures this project knows. */
  public enum Kind { T5_V1_1, VIT, DECODER_LM, UNKNOWN }

  public Architecture {
    checkNotNull(kind, "kind");
    Map<String, SortedMap<Integer, Integer>> copy = new TreeMap<>();
    moeLayers.forEach((k, v) -> copy.put(k, new TreeMap<>(v)));
    moeLayers = copy;
  }

  /** True when some layer already has experts. */
  public boolean isMoe() {
    return moeLayers.values().stream().anyMatch(m -> !m.isEmpty());
  }

  /** One line such as {@code T5 v1.1: d_model 768, d_ff 2048, 12 heads x 64, 12+12 layers, vocab 32128, dense}. */
  public String describe() {
    String moe = isMoe() ? "MoE layers " + moeLayers : "dense";
    return switch (kind) {
      case T5_V1_1 -> String.format("T5 v1.1 encoder-decoder: d_model %d, d_ff %d, %s, %d encoder + %d decoder"
          + " layers, vocab %d, %s", dModel, dFf, headsText(), encoderLayers, decoderLayers, vocab, moe);
      case DECODER_LM -> String.format("decoder-only LM: d_model %d, d_ff %d, %s, %d layers, vocab %d, %s",
          dModel, dFf, headsText(), decoderLayers, vocab, moe);
      case VIT -> String.format("ViT: image %dx%dx%d, patch %d, d_model %d, d_ff %d, %d layers, %d classes, %s",
          imageSize, imageSize, channels, patch, dModel, dFf, encoderLayers, classes, moe);
      case UNKNOWN -> "unknown architecture (no T5 / ViT / LM variable layout found)"
          + (encoderLayers + decoderLayers > 0 ? ", " + encoderLayers + " encoder + " + decoderLayers
              + " decoder layers" : "");
    };
  }

  private String headsText() {
    return heads > 0 ? heads + " heads x " + (innerDim / heads) + " (d_kv)" : "attention width " + innerDim;
  }
}
