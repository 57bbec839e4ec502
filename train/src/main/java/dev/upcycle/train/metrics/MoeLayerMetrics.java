package dev.upcycle.train.metrics;

/**
 * One MoE layer's figures for one step.
 *
 * @param layer the layer's variable prefix, e.g. {@code encoder/layers_1/mlp}
 * @param expertFraction [E] share of filled slots per expert
 * @param droppedFraction share of tokens dropped
 * @param routerZLoss the layer's router z-loss
 * @param auxLoss the layer's load-balancing loss (0 for expert choice)
 */
public record MoeLayerMetrics(String layer, double[] expertFraction, double droppedFraction, double routerZLoss,
    double auxLoss) {

  public MoeLayerMetrics {
    expertFraction = expertFraction.clone();
  }

  @Override
  public double[] expertFraction() {
    return expertFraction.clone();
  }
}
