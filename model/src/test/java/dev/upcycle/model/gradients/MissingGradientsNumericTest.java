package dev.upcycle.model.gradients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.GradientChecker;
import dev.upcycle.model.testing.TensorAssert;
import dev.upcycle.model.testing.Tensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ResourceGather;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.op.random.StatelessRandomGetKeyCounterAlg;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Finite-difference checks of every Java gradient in {@link MissingGradients}. Outputs that are
 * not scalar are projected by {@link GradientChecker} onto fixed random weights; several functions
 * square the op's output so the gradient depends on the values, not only on the routing.
 * Tolerances: the checker's float64 defaults (atol 1e-6, rtol 1e-5, step 1e-6) unless stated.
 */
class MissingGradientsNumericTest {

  @BeforeAll
  static void register() {
    MissingGradients.registerAll();
  }

  // ------------------------------------------------------------------ TopKV2

  @Test
  void topKGradientScattersIntoSelectedPositions() {
    // distinct values, gaps >> step, so the top-k set is stable under perturbation
    double[] x = {0.3, -1.2, 2.5, 0.9, 1.7, -0.4, 3.1, 0.0, -2.2, 1.1};
    GradientChecker.float64(
            (tf, in) -> tf.math.square(tf.nn.topK(in.get(0), tf.constant(3), TInt32.class).values()))
        .input("x", x, 2, 5)
        .check();
  }

  @Test
  void topKGradientOnRank3InputAndInt64IndexOutput() {
    double[] x = {0.5, 2.0, -1.0, 1.5, 3.0, -0.5, 0.25, 1.0, -2.0, 0.75, 2.5, 1.25, 0.1, -0.3,
        0.9, -1.7};
    GradientChecker.float64(
            (tf, in) -> {
              Operand<TFloat64> values =
                  tf.nn.topK(in.get(0), tf.constant(2L), TInt64.class).values();
              return tf.math.mul(values, tf.math.tanh(values));
            })
        .input("x", x, 2, 2, 4)
        .check();
  }

  @Test
  void topKGradientMatchesPlainJavaReference() {
    // d/dx sum_j w_j * topk(x)_j with w = (1, 10): the largest gets 1, the second 10, others 0
    double[] x = {0.2, 5.0, 3.0, -1.0};
    GradientChecker.Result r =
        GradientChecker.float64(
                (tf, in) ->
                    tf.sum(
                        tf.math.mul(
                            tf.nn.topK(in.get(0), tf.constant(2), TInt32.class).values(),
                            tf.constant(new double[] {1, 10})),
                        tf.constant(0)))
            .input("x", x)
            .check();
    TensorAssert.assertClose("topK grad", new double[] {0, 1, 10, 0}, r.analytic("x"), 0, 0);
  }

  // ------------------------------------------------- SparseSoftmaxCrossEntropyWithLogits

  @Test
  void sparseSoftmaxCrossEntropyLossGradientFloat64() {
    double[] logits = {0.1, -0.4, 1.2, 0.3, 2.0, -1.0, 0.5, 0.0, -0.2, 0.7, 0.4, -1.5};
    GradientChecker.float64(
            (tf, in) ->
                tf.nn
                    .sparseSoftmaxCrossEntropyWithLogits(
                        in.get(0), tf.constant(new int[] {2, 0, 3}))
                    .loss())
        .input("logits", logits, 3, 4)
        .check();
  }

  @Test
  void sparseSoftmaxCrossEntropyBackpropOutputGradient() {
    // differentiates the op's second output (softmax - onehot) as well as the loss
    double[] logits = {0.1, -0.4, 1.2, 0.3, 2.0, -1.0, 0.5, 0.0};
    GradientChecker.float64(
            (tf, in) -> {
              var op =
                  tf.nn.sparseSoftmaxCrossEntropyWithLogits(
                      in.get(0), tf.constant(new long[] {1, 3}));
              Operand<TFloat64> lossSum = tf.sum(op.loss(), tf.constant(0));
              Operand<TFloat64> backpropTerm =
                  tf.sum(
                      tf.math.mul(
                          op.backprop(),
                          tf.constant(new double[][] {{1, -2, 3, 0.5}, {-1, 2, 0.25, 4}})),
                      tf.constant(new int[] {0, 1}));
              return tf.math.add(lossSum, backpropTerm);
            })
        .input("logits", logits, 2, 4)
        .check();
  }

  @Test
  void sparseSoftmaxCrossEntropyFloat32() {
    double[] logits = {0.1, -0.4, 1.2, 2.0, -1.0, 0.5};
    GradientChecker.float32(
            (tf, in) ->
                tf.nn
                    .sparseSoftmaxCrossEntropyWithLogits(in.get(0), tf.constant(new int[] {0, 2}))
                    .loss())
        .input("logits", logits, 2, 3)
        .check();
  }

  // ------------------------------------------------ TensorScatterUpdate / Add / Sub

  @Test
  void tensorScatterUpdateRowsGradient() {
    double[] tensor = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    double[] updates = {-1, -2, -3, 0.5, 0.25, 0.125};
    GradientChecker.float64(
            (tf, in) ->
                tf.math.square(
                    tf.tensorScatterNdUpdate(
                        in.get(0), tf.constant(new int[][] {{1}, {3}}), in.get(1))))
        .input("tensor", tensor, 4, 3)
        .input("updates", updates, 2, 3)
        .check();
  }

  @Test
  void tensorScatterUpdateElementsGradientZeroesUpdatedPositions() {
    double[] tensor = {1, 2, 3, 4, 5, 6};
    GradientChecker.Result r =
        GradientChecker.float64(
                (tf, in) ->
                    tf.math.square(
                        tf.tensorScatterNdUpdate(
                            in.get(0), tf.constant(new long[][] {{0, 1}, {1, 2}}), in.get(1))))
            .input("tensor", tensor, 2, 3)
            .input("updates", new double[] {7, 8})
            .check();
    double[] dTensor = r.analytic("tensor");
    assertEquals(0.0, dTensor[1], "overwritten element (0,1) gets no gradient");
    assertEquals(0.0, dTensor[5], "overwritten element (1,2) gets no gradient");
  }

  @Test
  void tensorScatterAddGradientWithDuplicateIndices() {
    double[] tensor = {1, 2, 3, 4, 5, 6, 7, 8};
    double[] updates = {0.5, -1, 2, 0.25, -0.75, 1.5};
    GradientChecker.float64(
            (tf, in) ->
                tf.math.square(
                    tf.tensorScatterNdAdd(
                        in.get(0), tf.constant(new int[][] {{1}, {1}, {3}}), in.get(1))))
        .input("tensor", tensor, 4, 2)
        .input("updates", updates, 3, 2)
        .check();
  }

  @Test
  void tensorScatterSubGradient() {
    double[] tensor = {1, 2, 3, 4, 5, 6};
    GradientChecker.float64(
            (tf, in) ->
                tf.math.square(
                    tf.tensorScatterNdSub(
                        in.get(0), tf.constant(new int[][] {{0, 0}, {1, 1}}), in.get(1))))
        .input("tensor", tensor, 2, 3)
        .input("updates", new double[] {0.5, -2})
        .check();
  }

  // ------------------------------------------------------------------ ResourceGather

  /**
   * loss(var) = sum(W * gather(var, [3, 0, 3])^2) + sum(V * read(var)); the gradient w.r.t. the
   * VarHandleOp output is compared with central differences (assigning perturbed values) and with
   * the plain-Java formula 2 * sum_occurrences(W) * var + V.
   */
  @Test
  void resourceGatherGradientWithRespectToVariableHandle() {
    double[] init = {1, 2, 3, 4, 5, 6, 7, 8}; // [4, 2]
    double[][] w = {{1, -1}, {0.5, 2}, {-2, 0.25}};
    double[][] v = {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}};
    int[] idx = {3, 0, 3};
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      VarHandleOp handle = tf.withName("var").varHandleOp(TFloat64.class, Shape.of(4, 2));
      Placeholder<TFloat64> value = tf.placeholder(TFloat64.class);
      var assign = tf.assignVariableOp(handle, value);
      Operand<TFloat64> gathered = tf.resourceGather(handle, tf.constant(idx), TFloat64.class);
      Operand<TFloat64> read = tf.readVariableOp(handle, TFloat64.class);
      Operand<TFloat64> loss =
          tf.math.add(
              tf.sum(
                  tf.math.mul(tf.constant(w), tf.math.square(gathered)),
                  tf.constant(new int[] {0, 1})),
              tf.sum(tf.math.mul(tf.constant(v), read), tf.constant(new int[] {0, 1})));
      Output<?>[] grad = g.addGradients(loss.asOutput(), new Output<?>[] {handle.asOutput()});
      try (Session s = new Session(g)) {
        double[] analytic;
        try (Tensor t = Tensors.of(init, 4, 2)) {
          s.runner().feed(value, t).addTarget(assign).run();
        }
        try (Result r = s.runner().fetch(grad[0]).run()) {
          assertTrue(r.get(0) instanceof TFloat64, "gradient dtype is the variable's");
          analytic = Tensors.toDoubles(r.get(0));
        }
        double h = 1e-6;
        double[] numeric = new double[init.length];
        for (int e = 0; e < init.length; e++) {
          numeric[e] =
              (lossAt(s, value, assign, loss, init, e, h) - lossAt(s, value, assign, loss, init, e, -h))
                  / (2 * h);
        }
        double[] reference = new double[init.length];
        for (int row = 0; row < 4; row++) {
          for (int c = 0; c < 2; c++) {
            double wSum = 0;
            for (int j = 0; j < idx.length; j++) {
              wSum += idx[j] == row ? w[j][c] : 0;
            }
            reference[row * 2 + c] = 2 * wSum * init[row * 2 + c] + v[row][c];
          }
        }
        TensorAssert.assertClose("ResourceGather grad vs reference", reference, analytic, 1e-12, 0);
        TensorAssert.assertClose("ResourceGather grad vs finite differences", numeric, analytic, 1e-6, 1e-5);
      }
    }
  }

  private static double lossAt(
      Session s, Placeholder<TFloat64> value, org.tensorflow.op.Op assign, Operand<TFloat64> loss,
      double[] base, int element, double delta) {
    double[] x = base.clone();
    x[element] += delta;
    try (Tensor t = Tensors.of(x, 4, 2)) {
      s.runner().feed(value, t).addTarget(assign).run();
    }
    try (Result r = s.runner().fetch(loss).run()) {
      return Tensors.scalarValue(r.get(0));
    }
  }

  @Test
  void resourceGatherWithBatchDimsFailsWithClearMessage() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      VarHandleOp handle = tf.varHandleOp(TFloat32.class, Shape.of(2, 3));
      Operand<TFloat32> gathered =
          tf.resourceGather(
              handle,
              tf.constant(new int[][] {{1}, {0}}),
              TFloat32.class,
              ResourceGather.batchDims(1L));
      Operand<TFloat32> loss = tf.sum(gathered, tf.constant(new int[] {0, 1}));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> g.addGradients(loss.asOutput(), new Output<?>[] {handle.asOutput()}));
      assertTrue(e.getMessage().contains("batch_dims 1"), e.getMessage());
    }
  }

  // ------------------------------------------------------------------ random ops

  @Test
  void statelessRandomOpsOnThePathGiveZeroGradientToTheirInputs() {
    // y = x * noise(shape(x)): the noise depends on x only through its shape, so dy/dx = noise
    double[] x = {0.5, -1.0, 2.0, 0.25, 1.5, -0.75};
    long[] seed = {7, 11};
    GradientChecker.float64(
            (tf, in) -> {
              Operand<TFloat64> v = in.get(0);
              Operand<TInt64> shape = tf.shape(v, TInt64.class);
              StatelessRandomGetKeyCounterAlg kca =
                  tf.random.statelessRandomGetKeyCounterAlg(tf.constant(seed));
              Operand<TFloat64> normal =
                  tf.random.statelessRandomNormal(shape, tf.constant(seed), TFloat64.class);
              Operand<TFloat64> uniform =
                  tf.random.statelessRandomUniform(shape, tf.constant(seed), TFloat64.class);
              Operand<TFloat64> truncated =
                  tf.random.statelessTruncatedNormal(shape, tf.constant(seed), TFloat64.class);
              Operand<TFloat64> normalV2 =
                  tf.random.statelessRandomNormalV2(
                      shape, kca.key(), kca.counter(), kca.alg(), TFloat64.class);
              Operand<TFloat64> uniformV2 =
                  tf.random.statelessRandomUniformV2(
                      shape, kca.key(), kca.counter(), kca.alg(), TFloat64.class);
              Operand<TFloat64> noise =
                  tf.math.add(
                      tf.math.add(tf.math.add(normal, uniform), tf.math.add(truncated, normalV2)),
                      uniformV2);
              return tf.math.mul(tf.math.square(v), noise);
            })
        .input("x", x, 2, 3)
        .check();
  }

  @Test
  void statefulRandomUniformOnThePathGivesTheNoiseAsGradient() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat64> x = tf.constant(new double[] {1, 2, 3});
      Operand<TFloat64> noise = tf.random.randomUniform(tf.shape(x), TFloat64.class);
      Operand<TFloat64> y = tf.sum(tf.math.mul(x, noise), tf.constant(0));
      Output<?>[] grad = g.addGradients(y.asOutput(), new Output<?>[] {x.asOutput()});
      try (Session s = new Session(g);
          Result r = s.runner().fetch(grad[0]).fetch(noise).run()) {
        TensorAssert.assertClose(
            "grad = noise", Tensors.toDoubles(r.get(1)), Tensors.toDoubles(r.get(0)), 0, 0);
      }
    }
  }

  // ------------------------------------------------------- piecewise-constant ops

  @Test
  void piecewiseConstantOpsOnThePathContributeZero() {
    // values away from the jumps of round (k + 0.5) and floorDiv by 2 (even integers)
    double[] x = {1.2, 2.7, -0.3, 0.8, 3.1, -1.6};
    GradientChecker.float64(
            (tf, in) -> {
              Operand<TFloat64> v = in.get(0);
              Operand<TFloat64> rounded = tf.math.mul(v, tf.math.round(v));
              Operand<TFloat64> floored = tf.math.mul(v, tf.math.floorDiv(v, tf.constant(2.0)));
              // a float Range whose limit depends on x: limit = 0 * sum(x) + 6
              Operand<TFloat64> limit =
                  tf.math.add(
                      tf.math.mul(tf.sum(v, tf.constant(0)), tf.constant(0.0)), tf.constant(6.0));
              Operand<TFloat64> ramp = tf.range(tf.constant(0.0), limit, tf.constant(1.0));
              Operand<TFloat64> ramped = tf.math.mul(v, tf.reshape(ramp, tf.shape(v)));
              return tf.math.add(tf.math.add(rounded, floored), ramped);
            })
        .input("x", x)
        .check();
  }
}
