package dev.upcycle.model.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;

/**
 * The graph routers against {@link RoutingReference} (plain Java, float64): slot assignment and
 * order, capacity drops, combine weights (raw and renormalised), aux loss, z-loss, expert shares
 * and dropped fraction. Tolerance 1e-9 absolute for float64 values; integer results exact.
 */
class RouterTest {

  private static Graph graph;
  private static Session session;

  @BeforeAll
  static void open() {
    graph = new Graph();
    session = new Session(graph);
  }

  @AfterAll
  static void close() {
    session.close();
    graph.close();
  }

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of("ec C=1", RouterConfig.expertChoice(1.0), 2, 8, 4),
        Arguments.of("ec C=2 renorm", RouterConfig.expertChoice(2.0).withRenormalize(true), 2, 8, 4),
        Arguments.of("ec C=0.5", RouterConfig.expertChoice(0.5), 1, 12, 3),
        Arguments.of("top1 C=1", RouterConfig.topK(1, 1.0), 2, 8, 4),
        Arguments.of("top2 C=0.5 (drops)", RouterConfig.topK(2, 0.5), 2, 10, 4),
        Arguments.of("top2 C=0.5 BPR", RouterConfig.topK(2, 0.5).withBatchPrioritized(true), 2, 10, 4),
        Arguments.of("top2 C=1.25 BPR renorm", RouterConfig.topK(2, 1.25).withBatchPrioritized(true)
            .withRenormalize(true), 3, 8, 5),
        Arguments.of("top2 C=0.25 renorm (many drops)", RouterConfig.topK(2, 0.25).withRenormalize(true), 1, 16, 4),
        Arguments.of("top2 dropless", RouterConfig.topK(2, 0.25).withDropless(true), 2, 10, 4),
        Arguments.of("top2 dropless renorm", RouterConfig.topK(2, 1.0).withDropless(true).withRenormalize(true), 3, 8, 5),
        Arguments.of("top1 dropless", RouterConfig.topK(1, 1.0).withDropless(true), 1, 16, 4),
        // K·S = 7 has no divisor near √7: slot positions take the one-Cumsum path, the others two levels
        Arguments.of("top1 C=1 S=7 (one-level cumsum)", RouterConfig.topK(1, 1.0), 2, 7, 3));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void matchesPlainJavaReference(String label, RouterConfig config, int groups, int s, int experts) {
    double[][][] logits = randomLogits(new Random(label.hashCode()), groups, s, experts);
    RoutingReference ref = new RoutingReference(logits, config);
    Ops tf = Ops.create(graph).withSubScope("r" + Math.abs(label.hashCode()));
    BuildContext<TFloat64> ctx = BuildContext.create(tf, new VariableStore<>(tf, TFloat64.class, 0), false, null);
    Routing<TFloat64> r = Router.of(config).route(ctx, tf.constant(logits));
    assertEquals(ref.cap, r.capacity(), "capacity");
    try (var result = session.runner().fetch(r.tokenIndex()).fetch(r.combineWeights()).fetch(r.slotFilled())
        .fetch(r.auxLoss()).fetch(r.routerZLoss()).fetch(r.expertFraction()).fetch(r.droppedFraction()).run()) {
      int[] token = Fetch.ints(result.get(0));
      double[] combine = Fetch.doubles(result.get(1));
      double[] filled = Fetch.doubles(result.get(2));
      int i = 0;
      for (int g = 0; g < groups; g++) {
        for (int e = 0; e < experts; e++) {
          for (int c = 0; c < ref.cap; c++, i++) {
            String where = label + " slot [g" + g + ", e" + e + ", c" + c + "]";
            assertEquals(ref.filled[g][e][c] ? 1.0 : 0.0, filled[i], where + " filled");
            if (ref.filled[g][e][c]) {
              assertEquals(ref.token[g][e][c], token[i], where + " token");
              assertEquals(ref.combine[g][e][c], combine[i], 1e-9, where + " combine");
            } else {
              assertEquals(0.0, combine[i], 0.0, where + " combine of an empty slot");
            }
          }
        }
      }
      assertEquals(ref.aux, Fetch.doubles(result.get(3))[0], 1e-9, "aux loss");
      assertEquals(ref.zLoss, Fetch.doubles(result.get(4))[0], 1e-9, "z-loss");
      double[] fraction = Fetch.doubles(result.get(5));
      for (int e = 0; e < experts; e++) {
        assertEquals(ref.expertFraction[e], fraction[e], 1e-12, "expert fraction " + e);
      }
      assertEquals(ref.dropped, Fetch.doubles(result.get(6))[0], 1e-12, "dropped fraction");
    }
  }

  /** Hand-built case: 4 tokens, 2 experts, top-1, capacity 1 each (C = 0.5): order decides drops. */
  @Test
  void topOneCapacityDropsLaterTokensUnlessBatchPrioritized() {
    // probabilities favour expert 0 for tokens 0..2 (token 2 most confident), expert 1 for token 3
    double[][][] logits = {{{1, 0}, {2, 0}, {5, 0}, {0, 3}}};
    RouterConfig plain = RouterConfig.topK(1, 0.5);
    RouterConfig bpr = plain.withBatchPrioritized(true);
    assertEquals(1, plain.capacity(4, 2));
    Ops tf = Ops.create(graph).withSubScope("hand");
    BuildContext<TFloat64> ctx = BuildContext.create(tf, new VariableStore<>(tf, TFloat64.class, 0), false, null);
    Routing<TFloat64> r1 = Router.of(plain).route(ctx, tf.constant(logits));
    Routing<TFloat64> r2 = Router.of(bpr).route(ctx, tf.constant(logits));
    try (var result = session.runner().fetch(r1.tokenIndex()).fetch(r2.tokenIndex()).fetch(r1.droppedFraction())
        .run()) {
      int[] seq = Fetch.ints(result.get(0));
      int[] prio = Fetch.ints(result.get(1));
      assertEquals(0, seq[0], "in sequence order the first token takes expert 0's only slot");
      assertEquals(3, seq[1], "token 3 takes expert 1");
      assertEquals(2, prio[0], "with BPR the most confident token (2) takes expert 0's slot");
      assertEquals(3, prio[1]);
      assertEquals(0.5, Fetch.doubles(result.get(2))[0], 1e-12, "tokens 1 and 2 dropped");
    }
  }

  static double[][][] randomLogits(Random rnd, int groups, int s, int experts) {
    double[][][] out = new double[groups][s][experts];
    for (double[][] a : out) {
      for (double[] b : a) {
        for (int e = 0; e < experts; e++) {
          b[e] = rnd.nextGaussian() * 2;
        }
      }
    }
    return out;
  }
}
