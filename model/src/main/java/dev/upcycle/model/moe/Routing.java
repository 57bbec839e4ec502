package dev.upcycle.model.moe;

import org.tensorflow.Operand;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * What a router decided for tokens in groups: for every expert slot, which token of the group
 * fills it and with what combine weight.
 *
 * @param tokenIndex [groups, experts, capacity] token position within its group (0 when empty)
 * @param combineWeights [groups, experts, capacity] weight of that expert's output for the token
 *     (0 when the slot is empty)
 * @param slotFilled [groups, experts, capacity] 1 where a token fills the slot, else 0
 * @param auxLoss scalar load-balancing loss (0 for expert choice)
 * @param routerZLoss scalar mean of logsumexp(logits)² over tokens
 * @param expertFraction [experts] share of the filled slots that each expert holds
 * @param droppedFraction scalar: top-K, share of (token, choice) pairs over capacity; expert
 *     choice, share of tokens that no expert took
 * @param capacity slots per expert per group
 */
public record Routing<T extends TFloating>(
    Operand<TInt32> tokenIndex,
    Operand<T> combineWeights,
    Operand<T> slotFilled,
    Operand<T> auxLoss,
    Operand<T> routerZLoss,
    Operand<T> expertFraction,
    Operand<T> droppedFraction,
    int capacity) {}
