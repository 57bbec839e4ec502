package dev.upcycle.model.moe;

import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.graph.BuildContext;
import org.tensorflow.Operand;
import org.tensorflow.types.family.TFloating;

/** Turns router logits into slot assignments. Implementations hold no variables. */
public interface Router {

  /**
   * @param logits [groups, groupSize, experts] router logits x·W_r
   * @return the routing of every group
   */
  <T extends TFloating> Routing<T> route(BuildContext<T> ctx, Operand<T> logits);

  /** The settings this router was made with. */
  RouterConfig config();

  /** The router for a config. */
  static Router of(RouterConfig config) {
    return switch (config.type()) {
      case EXPERT_CHOICE -> new ExpertChoiceRouter(config);
      case TOP_K -> new TopKRouter(config);
    };
  }
}
