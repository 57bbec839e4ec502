package dev.upcycle.model;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Optional;

/**
 * A whole model: the dense architecture plus, when sparse, the MoE settings and which layers of
 * each stack are MoE layers. ViT and LM use {@code encoderLayout} for their single stack.
 */
public record ModelSpec(
    ArchitectureConfig arch,
    Optional<MoeConfig> moe,
    SparseLayout encoderLayout,
    SparseLayout decoderLayout) {

  public ModelSpec {
    checkNotNull(arch, "arch");
    checkNotNull(moe, "moe");
    checkNotNull(encoderLayout, "encoderLayout");
    checkNotNull(decoderLayout, "decoderLayout");
    boolean anySparse = encoderLayout.kind() != SparseLayout.Kind.NONE
        || decoderLayout.kind() != SparseLayout.Kind.NONE;
    checkArgument(moe.isPresent() || !anySparse, "a sparse layout needs an MoE config");
    checkArgument(arch instanceof T5Config || decoderLayout.kind() == SparseLayout.Kind.NONE,
        "%s has one stack: give its layout as encoderLayout", arch.getClass().getSimpleName());
    if (arch instanceof T5Config t5) {
      encoderLayout.sparseLayers(t5.encoderLayers());
      decoderLayout.sparseLayers(t5.decoderLayers());
    } else if (arch instanceof VitConfig vit) {
      encoderLayout.sparseLayers(vit.layers());
    } else if (arch instanceof LmConfig lm) {
      encoderLayout.sparseLayers(lm.layers());
      checkArgument(moe.isEmpty() || anySparse == false || moe.get().decoderRouter().type() == RouterType.TOP_K,
          "the decoder-only LM is causal: its router must be top-K");
    }
  }

  public static ModelSpec dense(ArchitectureConfig arch) {
    return new ModelSpec(arch, Optional.empty(), SparseLayout.DENSE, SparseLayout.DENSE);
  }

  /** The sparse version of a dense model; for ViT and LM only {@code encoder} is used. */
  public static ModelSpec sparse(ArchitectureConfig arch, MoeConfig moe, SparseLayout encoder, SparseLayout decoder) {
    return new ModelSpec(arch, Optional.of(moe), encoder, arch instanceof T5Config ? decoder : SparseLayout.DENSE);
  }

  public boolean isSparse() {
    return moe.isPresent();
  }

  /** This spec with every layer dense (the dense model it is upcycled from). */
  public ModelSpec densified() {
    return dense(arch);
  }
}
