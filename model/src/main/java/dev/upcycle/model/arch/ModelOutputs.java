package dev.upcycle.model.arch;

import com.google.common.collect.ImmutableList;
import dev.upcycle.model.moe.MoeLayerStats;
import org.tensorflow.Operand;
import org.tensorflow.types.family.TFloating;

/**
 * What a forward pass gives: logits, per-MoE-layer statistics, and the MoE losses averaged over
 * MoE layers (0 for a dense model; expert choice layers count with aux loss 0, as T5X does).
 *
 * @param logits [batch, length, vocab] for T5 and LM, [batch, classes] for ViT
 */
public record ModelOutputs<T extends TFloating>(
    Operand<T> logits,
    ImmutableList<MoeLayerStats<T>> moeLayers,
    Operand<T> auxLoss,
    Operand<T> routerZLoss) {}
