package dev.upcycle.model.moe;

import org.tensorflow.Operand;
import org.tensorflow.types.family.TFloating;

/**
 * Per-layer MoE figures a training job logs: the layer's variable prefix, its load-balancing and
 * router z-losses, the share of filled slots per expert [E], and the dropped share.
 */
public record MoeLayerStats<T extends TFloating>(
    String layer,
    Operand<T> auxLoss,
    Operand<T> routerZLoss,
    Operand<T> expertFraction,
    Operand<T> droppedFraction,
    int capacity,
    int groupSize) {}
