package dev.upcycle.train.metrics;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * What one train step reports.
 *
 * @param step the step counter after this update (1 after the first update)
 * @param loss the minimised total: cross-entropy + z-loss + MoE loss terms
 * @param crossEntropy token cross-entropy normalised by real target tokens
 * @param zLoss the logit z-loss term (already multiplied by its factor)
 * @param auxLoss load-balancing loss averaged over MoE layers (before its factor; 0 when dense)
 * @param routerZLoss router z-loss averaged over MoE layers (before its factor; 0 when dense)
 * @param learningRate the scheduled rate this update used
 * @param gradNorm global gradient norm before clipping
 * @param tokensPerS (encoder) tokens per second of wall time of the step; 0 when not measured
 * @param moe per MoE layer figures, in graph order
 */
public record StepMetrics(long step, double loss, double crossEntropy, double zLoss, double auxLoss,
    double routerZLoss, double learningRate, double gradNorm, double tokensPerS, List<MoeLayerMetrics> moe) {

  public StepMetrics {
    moe = ImmutableList.copyOf(moe);
  }

  public StepMetrics withTokensPerS(double value) {
    return new StepMetrics(step, loss, crossEntropy, zLoss, auxLoss, routerZLoss, learningRate, gradNorm, value, moe);
  }
}
