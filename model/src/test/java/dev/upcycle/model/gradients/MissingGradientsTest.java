package dev.upcycle.model.gradients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Registration behaviour and which op types have gradients on this runtime. */
class MissingGradientsTest {

  /**
   * Op types {@link MissingGradients} does not register because the TF 2.18 runtime already has a
   * C++ gradient for them (registering would be refused).
   */
  private static final List<String> PRESENT_IN_CPP =
      List.of(
          "Erf", "Cumsum", "UnsortedSegmentSum", "Einsum", "GatherV2", "GatherNd", "ScatterNd",
          "ReadVariableOp", "Softmax", "LogSoftmax", "SoftmaxCrossEntropyWithLogits", "OneHot",
          "Cast", "Shape", "MatMul", "BatchMatMulV2", "Tanh", "Rsqrt", "Mean", "Sum");

  @Test
  void everyCoveredOpTypeLackedACppGradientAndNowHasOne() {
    Map<String, Boolean> result = MissingGradients.registerAll();
    assertEquals(MissingGradients.coveredOpTypes(), List.copyOf(result.keySet()));
    for (String type : MissingGradients.coveredOpTypes()) {
      // registration is refused when a gradient exists, so true proves the runtime lacked one
      assertTrue(
          result.get(type),
          type + ": expected no C++ gradient on this runtime (registration was refused)");
      assertTrue(MissingGradients.hasGradient(type), type + " has a gradient after registerAll");
    }
  }

  @Test
  void opTypesWithCppGradientsAreLeftAlone() {
    MissingGradients.registerAll();
    for (String type : PRESENT_IN_CPP) {
      assertTrue(MissingGradients.hasGradient(type), type + " has a C++ gradient");
      assertFalse(
          MissingGradients.coveredOpTypes().contains(type), type + " must not be re-registered");
    }
    assertFalse(
        MissingGradients.register("MatMul", (tf, op, grads) -> List.of()),
        "an existing C++ gradient cannot be replaced");
    assertFalse(
        MissingGradients.register("TopKV2", MissingGradients::zerosForAllInputs),
        "a second registration for the same op type is refused");
  }

  @Test
  void registerAllTwiceIsHarmless() {
    Map<String, Boolean> first = MissingGradients.registerAll();
    Map<String, Boolean> second = MissingGradients.registerAll();
    assertSame(first, second);
    assertTrue(first.values().stream().allMatch(v -> v), "first result is kept: " + first);
  }

  @Test
  void registerAllFromManyThreadsReturnsOneResult() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Map<String, Boolean>>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(MissingGradients::registerAll);
      }
      Map<String, Boolean> expected = MissingGradients.registerAll();
      for (Future<Map<String, Boolean>> f : pool.invokeAll(calls)) {
        assertSame(expected, f.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
