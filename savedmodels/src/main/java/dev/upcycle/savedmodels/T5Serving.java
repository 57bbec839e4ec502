package dev.upcycle.savedmodels;

import com.google.common.collect.ImmutableMap;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.arch.T5Model;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Fills;
import dev.upcycle.model.graph.VariableStore;
import dev.upcycle.model.moe.MoeLayerStats;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * T5 signatures. {@code serving_default}: {@code input_ids} int32 [n, l] (each row k >= 1
 * non-zero ids, right-padded with 0, l <= length) → {@code output_ids} int32 [n, targetLength - 1],
 * greedy decoding: position t + 1 of the decoder input is the argmax of the logits at position t,
 * starting from 0 (BOS); ids after the first EOS (1) are set to 0. {@code score}: {@code input_ids}
 * and {@code targets} int32 [n, lt] (lt <= targetLength - 1 … targetLength, 0-padded) →
 * {@code log_likelihood} [n] = Σ_t log p(target_t | target_<t, input).
 *
 * <p>The encoder runs once, outside the loop. The loop is a TensorFlow while loop whose body
 * runs the whole decoder on [batch, targetLength] each step (no key/value cache: cost grows with
 * the square of the output length, fine for the short outputs T5 tasks produce); positions after
 * the current step are padding. The body is a subgraph of its own, so it reads the weights through
 * variable handles with the same shared names (the restored resources), not through the outer
 * graph's handles.
 */
final class T5Serving {

  private static final int EOS = 1;

  private T5Serving() {}

  @SuppressWarnings("unchecked")
  static ImmutableMap<String, ServingGraph.SignatureTensors> signatures(Graph graph, Ops s, BuildContext<TFloat32> ctx,
      ModelSpec spec, T5Config c, int batch, int length, int targetLength) {
    Placeholder<TInt32> ids = s.withName("input_ids").placeholder(TInt32.class,
        Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE, Shape.UNKNOWN_SIZE)));
    List<Op> checks = new ArrayList<>();
    Operand<TInt32> n = ServingGraph.requestSize(s, ids, batch, checks);
    checks.add(idsCheck(s, ids, "input_ids", length, c.vocabSize(), true));
    Operand<TInt32> l = s.slice(s.shape(ids), s.constant(new int[] {1}), s.constant(new int[] {1})); // [1]
    Ops g = s.withControlDependencies(checks); // the pad must not run before the checks
    Operand<TInt32> encIds = g.withName("padded_input_ids").ensureShape(
        g.pad(ids, ServingGraph.padTo(g, n, batch, g.math.sub(g.constant(new int[] {length}), l), 2), g.constant(0)),
        Shape.of(batch, length)); // [batch, length]
    Operand<TBool> encValid = s.math.notEqual(encIds, s.constant(0));
    List<MoeLayerStats<TFloat32>> stats = new ArrayList<>();
    BuildContext<TFloat32> model = ctx.scope("model");
    Operand<TFloat32> encoded = T5Model.encode(model.scope("encoder"), spec, c, encIds, encValid, stats); // [batch, length, d]

    // score: teacher-forced decoder in the outer graph (this also creates the decoder's variables here)
    Placeholder<TInt32> targets = s.withName("targets").placeholder(TInt32.class,
        Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE, Shape.UNKNOWN_SIZE)));
    Operand<TInt32> lt = s.slice(s.shape(targets), s.constant(new int[] {1}), s.constant(new int[] {1})); // [1]
    Op targetCheck = idsCheck(s, targets, "targets", targetLength, c.vocabSize(), false);
    Op rowsCheck = s.withName("check_targets_rows").assertThat(
        s.reduceAll(s.math.equal(s.slice(s.shape(targets), s.constant(new int[] {0}), s.constant(new int[] {1})), n),
            s.constant(0)),
        List.of(s.constant("targets must have one row per input row; got"), s.shape(targets)));
    Ops gt = s.withControlDependencies(List.of(targetCheck, rowsCheck));
    Operand<TInt32> paddedTargets = gt.withName("padded_targets").ensureShape(gt.pad(targets,
            ServingGraph.padTo(gt, n, batch, gt.math.sub(gt.constant(new int[] {targetLength}), lt), 2),
            gt.constant(0)),
        Shape.of(batch, targetLength)); // [batch, Lt]
    Operand<TInt32> shifted = s.slice(s.pad(paddedTargets, s.constant(new int[][] {{0, 0}, {1, 0}}), s.constant(0)),
        s.constant(new int[] {0, 0}), s.constant(new int[] {batch, targetLength})); // [batch, Lt]
    Operand<TFloat32> teacher = T5Model.decode(model.scope("decoder"), spec, c, encoded, encValid, shifted,
        s.math.notEqual(paddedTargets, s.constant(0)), stats); // [batch, Lt, V]
    Operand<TFloat32> picked = s.reduceSum(s.math.mul(s.nn.logSoftmax(teacher), s.oneHot(paddedTargets,
        s.constant(c.vocabSize()), s.constant(1f), s.constant(0f))), s.constant(2)); // [batch, Lt]
    Operand<TFloat32> perRow = s.reduceSum(s.math.mul(picked,
        s.dtypes.cast(s.math.notEqual(paddedTargets, s.constant(0)), TFloat32.class)), s.constant(1)); // [batch]
    Operand<TFloat32> likelihood = s.withName("log_likelihood").slice(perRow, s.constant(new int[] {0}), n); // [n]

    // serving_default: greedy decoding in a while loop
    Output<?>[] loopIn = {s.constant(0).asOutput(), Fills.zeros(s, s.constant(new int[] {batch, targetLength}),
        TInt32.class).asOutput(), encoded.asOutput(), encIds.asOutput()};
    Output<?>[] loopOut = graph.whileLoop(loopIn,
        (cg, in, out) -> {
          Ops cond = Ops.create(cg);
          out[0] = cond.math.less((Operand<TInt32>) in[0], cond.constant(targetLength - 1)).asOutput();
        },
        (bg, in, out) -> {
          Ops b = Ops.create(bg);
          Operand<TInt32> step = (Operand<TInt32>) in[0];
          Operand<TInt32> dec = b.ensureShape((Operand<TInt32>) in[1], Shape.of(batch, targetLength));
          Operand<TFloat32> enc = b.ensureShape((Operand<TFloat32>) in[2], Shape.of(batch, length, c.dModel()));
          Operand<TInt32> eIds = b.ensureShape((Operand<TInt32>) in[3], Shape.of(batch, length));
          VariableStore<TFloat32> bodyStore = new VariableStore<>(b, TFloat32.class, 0);
          BuildContext<TFloat32> bctx = BuildContext.create(b, bodyStore, false, null).withFilledSlotsOnly()
              .scope("model");
          Operand<TInt32> positions = b.range(b.constant(0), b.constant(targetLength), b.constant(1)); // [Lt]
          Operand<TBool> decValid = b.tile(b.expandDims(b.math.lessEqual(positions, step), b.constant(0)),
              b.constant(new int[] {batch, 1})); // [batch, Lt]: positions 0..step are real
          Operand<TFloat32> logits = T5Model.decode(bctx.scope("decoder"), spec, c, enc,
              b.math.notEqual(eIds, b.constant(0)), dec, decValid, new ArrayList<>()); // [batch, Lt, V]
          Operand<TFloat32> current = b.squeeze(b.gather(logits, b.reshape(step, b.constant(new int[] {1})),
              b.constant(1)), org.tensorflow.op.core.Squeeze.axis(List.of(1L))); // [batch, V]
          Operand<TInt32> next = b.math.argMax(current, b.constant(1), TInt32.class); // [batch]
          Operand<TInt32> column = b.oneHot(b.math.add(step, b.constant(1)), b.constant(targetLength), b.constant(1),
              b.constant(0)); // [Lt]
          out[0] = b.math.add(step, b.constant(1)).asOutput();
          out[1] = b.math.add(dec, b.math.mul(b.expandDims(next, b.constant(1)),
              b.expandDims(column, b.constant(0)))).asOutput();
          out[2] = enc.asOutput();
          out[3] = eIds.asOutput();
        }, "greedy_decode");
    Operand<TInt32> decoded = s.slice((Operand<TInt32>) loopOut[1], s.constant(new int[] {0, 1}),
        s.concat(List.of(n, s.constant(new int[] {targetLength - 1})), s.constant(0))); // [n, Lt - 1]
    Operand<TInt32> eos = s.dtypes.cast(s.math.equal(decoded, s.constant(EOS)), TInt32.class);
    Operand<TInt32> afterEos = s.math.cumsum(eos, s.constant(1), org.tensorflow.op.math.Cumsum.exclusive(true));
    Operand<TInt32> outputIds = s.withName("output_ids").math.mul(decoded,
        s.dtypes.cast(s.math.equal(afterEos, s.constant(0)), TInt32.class)); // [n, Lt - 1]
    return ImmutableMap.of(
        ServingGraph.DEFAULT_SIGNATURE, new ServingGraph.SignatureTensors(ImmutableMap.of("input_ids", ids),
            ImmutableMap.of("output_ids", outputIds)),
        ServingGraph.SCORE_SIGNATURE, new ServingGraph.SignatureTensors(
            ImmutableMap.of("input_ids", ids, "targets", targets), ImmutableMap.of("log_likelihood", likelihood)));
  }

  /** Ids [n, l] with l <= maxLength, every id in [0, vocab) and (when asked) a non-zero id per row. */
  private static Op idsCheck(Ops s, Operand<TInt32> ids, String name, int maxLength, int vocab, boolean nonEmpty) {
    Operand<TInt32> l = s.slice(s.shape(ids), s.constant(new int[] {1}), s.constant(new int[] {1}));
    Operand<TBool> ok = s.math.logicalAnd(
        s.reduceAll(s.math.lessEqual(l, s.constant(new int[] {maxLength})), s.constant(0)),
        s.reduceAll(s.math.logicalAnd(s.math.greaterEqual(ids, s.constant(0)), s.math.less(ids, s.constant(vocab))),
            s.constant(new int[] {0, 1})));
    if (nonEmpty) {
      ok = s.math.logicalAnd(ok, s.reduceAll(s.reduceAny(s.math.notEqual(ids, s.constant(0)), s.constant(1)),
          s.constant(0)));
    }
    return s.withName("check_" + name).assertThat(ok, List.of(s.constant(name + " must be [n, l] with l <= " + maxLength
        + ", ids in [0, " + vocab + ")" + (nonEmpty ? ", at least one non-zero id per row" : "") + "; got shape"),
        s.shape(ids)));
  }
}
