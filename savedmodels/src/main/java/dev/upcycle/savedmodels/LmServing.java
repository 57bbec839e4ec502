package dev.upcycle.savedmodels;

import com.google.common.collect.ImmutableMap;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.arch.DecoderLm;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.savedmodels.ServingGraph.SignatureTensors;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** Decoder-only LM signatures. */
final class LmServing {

  private LmServing() {}

  /**
   * Decoder-only LM. {@code input_ids} int32 [n, l], 1 <= l <= length - 1, each row a prompt of
   * k >= 1 non-zero token ids right-padded with 0. The model reads [0, x_1 … x_k] (0 = BOS, as in
   * training) on [batch, length]; {@code serving_default} returns the logits at position k, the
   * distribution of x_{k+1}: {@code logits} [n, vocab]. {@code score} returns
   * {@code log_likelihood} [n] = Σ_{t=1..k} log p(x_t | x_<t). Causal attention makes the padding
   * after position k irrelevant.
   */
  static ImmutableMap<String, SignatureTensors> signatures(Ops s, BuildContext<TFloat32> ctx, ModelSpec spec,
      LmConfig lm, int batch, int length) {
    Placeholder<TInt32> ids = s.withName("input_ids").placeholder(TInt32.class,
        Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE, Shape.UNKNOWN_SIZE)));
    List<Op> checks = new java.util.ArrayList<>();
    Operand<TInt32> n = ServingGraph.requestSize(s, ids, batch, checks);
    Operand<TInt32> l = s.slice(s.shape(ids), s.constant(new int[] {1}), s.constant(new int[] {1})); // [1]
    Operand<TInt32> k = s.reduceSum(s.dtypes.cast(s.math.notEqual(ids, s.constant(0)), TInt32.class),
        s.constant(1)); // [n]
    checks.add(s.withName("check_ids").assertThat(s.math.logicalAnd(
        s.reduceAll(s.math.lessEqual(l, s.constant(new int[] {length - 1})), s.constant(0)),
        s.reduceAll(s.math.logicalAnd(s.math.greaterEqual(k, s.constant(1)),
            s.reduceAll(s.math.logicalAnd(s.math.greaterEqual(ids, s.constant(0)),
                s.math.less(ids, s.constant(lm.vocabSize()))), s.constant(1))), s.constant(0))),
        List.of(s.constant("input_ids must be [n, l] with l <= " + (length - 1) + ", ids in [0, " + lm.vocabSize()
            + "), at least one non-zero id per row; got shape"), s.shape(ids))));
    Ops g = s.withControlDependencies(checks);
    // [0, x_1 … x_k, 0 …] on [batch, length]
    Operand<TInt32> shifted = s.pad(ids, s.constant(new int[][] {{0, 0}, {1, 0}}), s.constant(0)); // [n, l + 1]
    Operand<TInt32> extra = g.math.sub(g.constant(new int[] {length - 1}), l);
    Operand<TInt32> inputs = g.withName("padded_input_ids").ensureShape(
        g.pad(shifted, ServingGraph.padTo(g, n, batch, extra, 2), g.constant(0)), Shape.of(batch, length)); // [batch, length]
    // positions 0..k are real: a non-zero stand-in where the (unknown) next token would be
    Operand<TInt32> kPadded = g.pad(k, g.reshape(g.concat(List.of(g.constant(new int[] {0}),
        g.math.sub(g.constant(new int[] {batch}), n)), g.constant(0)), g.constant(new int[] {1, 2})),
        g.constant(-1)); // [batch], -1 for padding rows
    Operand<TInt32> positions = s.range(s.constant(0), s.constant(length), s.constant(1)); // [length]
    Operand<TInt32> valid = s.dtypes.cast(s.math.lessEqual(s.expandDims(positions, s.constant(0)),
        s.expandDims(kPadded, s.constant(1))), TInt32.class); // [batch, length], 1 = real
    Operand<TFloat32> full = DecoderLm.build(ctx.scope("model"), spec, inputs, valid).logits(); // [batch, length, V]
    Operand<TInt32> rows = s.range(s.constant(0), s.reshape(n, s.constant(new int[0])), s.constant(1)); // [n]
    Operand<TFloat32> next = s.withName("logits").gatherNd(full,
        s.stack(List.of(rows, k), org.tensorflow.op.core.Stack.axis(1L))); // [n, V]
    // score: log p(x_t | x_<t) for t = 1..k sits at position t - 1 with target ids[t - 1]
    Operand<TFloat32> logProbs = s.nn.logSoftmax(s.slice(full, s.constant(new int[] {0, 0, 0}),
        s.concat(List.of(n, l, s.constant(new int[] {-1})), s.constant(0)))); // [n, l, V]
    Operand<TFloat32> picked = s.reduceSum(s.math.mul(logProbs, s.oneHot(ids, s.constant(lm.vocabSize()),
        s.constant(1f), s.constant(0f))), s.constant(2)); // [n, l]
    Operand<TFloat32> likelihood = s.withName("log_likelihood").reduceSum(s.math.mul(picked,
        s.dtypes.cast(s.math.notEqual(ids, s.constant(0)), TFloat32.class)), s.constant(1)); // [n]
    return ImmutableMap.of(
        ServingGraph.DEFAULT_SIGNATURE, new SignatureTensors(ImmutableMap.of("input_ids", ids), ImmutableMap.of("logits", next)),
        ServingGraph.SCORE_SIGNATURE, new SignatureTensors(ImmutableMap.of("input_ids", ids),
            ImmutableMap.of("log_likelihood", likelihood)));
  }

}
