package dev.upcycle.model.moe;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.RouterConfig;
import dev.upcycle.model.RouterType;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Initializer;
import dev.upcycle.model.layers.Activations;
import dev.upcycle.model.layers.Dropout;
import dev.upcycle.model.layers.Shapes;
import dev.upcycle.model.names.CanonicalNames;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * An MoE MLP block replacing {@code <prefix>/mlp}: tokens are split into groups and routed; the
 * tokens of all slots are gathered once into rows grouped by expert [R, d] (capacity routing: every
 * slot, R = E·G·C; dropless top-K: the N·K filled slots only; top-K capacity routing in a graph
 * built {@link BuildContext#withFilledSlotsOnly}: the filled slots, R known at run time), each expert runs as plain matmuls on
 * its contiguous rows with its slice of the stacked weights {@code <prefix>/expert/...} [E, d, d_ff],
 * and the rows, weighted by their combine weights, are summed back per token with
 * UnsortedSegmentSum. A token no expert took gets 0 here, so the block's residual connection passes
 * it through unchanged.
 */
public final class MoeLayer {

  /** The result: the block output [batch, length, d] and the layer's statistics. */
  public record Output<T extends TFloating>(Operand<T> output, MoeLayerStats<T> stats, Routing<T> routing) {}

  private MoeLayer() {}

  /**
   * @param prefix the MLP's variable prefix, e.g. {@code encoder/layers_1/mlp}
   * @param x [batch, length, d]
   * @param causal true in decoder stacks; expert choice is refused there
   */
  public static <T extends TFloating> Output<T> apply(BuildContext<T> ctx, String prefix, Operand<T> x,
      MoeConfig moe, boolean causal, long dFf, ExpertKind kind) {
    RouterConfig routerConfig = moe.router(causal);
    checkArgument(!(causal && routerConfig.type() == RouterType.EXPERT_CHOICE),
        "%s: expert choice routing cannot be used in a causal stack (a token would depend on later tokens);"
            + " use a top-K router", prefix);
    Ops tf = ctx.tf();
    long[] shape = Shapes.of(x);
    long d = shape[2];
    int tokens = Math.toIntExact(shape[0] * shape[1]);
    int groupSize = groupSize(tokens, moe.groupSize());
    int groups = tokens / groupSize;
    int experts = moe.numExperts();

    Operand<T> flat = tf.reshape(x, tf.constant(new long[] {tokens, d})); // [N, d]
    Operand<T> routerIn = flat;
    if (ctx.training() && routerConfig.jitter() > 0) {
      Operand<T> u = tf.random.statelessRandomUniform(tf.constant(new long[] {tokens, d}), ctx.nextSeed(), ctx.dtype());
      Operand<T> noise = tf.math.add(ctx.constant(1.0 - routerConfig.jitter()),
          tf.math.mul(u, ctx.constant(2 * routerConfig.jitter())));
      routerIn = tf.math.mul(flat, noise);
    }
    Operand<T> router = ctx.store().get(CanonicalNames.router(prefix), new long[] {d, experts},
        Initializer.normal(0.02));
    Operand<T> logits = tf.reshape(tf.linalg.matMul(routerIn, router),
        tf.constant(new long[] {groups, groupSize, experts})); // [G, S, E]
    Routing<T> routing = Router.of(routerConfig).route(ctx, logits);
    int cap = routing.capacity();

    // every row the experts multiply: its expert's rows are contiguous, expert 0 first
    Rows rows;
    if (routerConfig.dropless()) {
      rows = FilledSlotRows.dropless(tf, routing, groupSize, experts, (long) tokens * routerConfig.k());
    } else if (ctx.filledSlotsOnly() && routerConfig.type() == RouterType.TOP_K) {
      // expert choice fills every slot of its capacity, top-K leaves the unchosen ones empty
      rows = FilledSlotRows.atRunTime(tf, routing, groupSize, experts);
    } else {
      rows = capacityRows(tf, routing, groupSize, experts);
    }
    Operand<T> expertIn = tf.gather(flat, rows.token(), tf.constant(0)); // [R, d]
    Operand<T> expertOut = experts(ctx, CanonicalNames.experts(prefix), expertIn, rows, d, dFf, kind,
        moe.expertDropout()); // [R, d]
    Operand<T> weights = tf.expandDims(rowValues(tf, routing.combineWeights(), rows), tf.constant(1)); // [R, 1]
    // combine: each row's weighted output summed into its token (no expert took a token: 0)
    Operand<T> combined = tf.math.unsortedSegmentSum(tf.math.mul(expertOut, weights), rows.token(),
        tf.constant(tokens)); // [N, d]
    Operand<T> out = tf.reshape(combined, tf.constant(shape));
    MoeLayerStats<T> stats = new MoeLayerStats<>(prefix, routing.auxLoss(), routing.routerZLoss(),
        routing.expertFraction(), routing.droppedFraction(), cap, groupSize);
    return new Output<>(out, stats, routing);
  }

  /**
   * The rows the experts multiply, expert-major: {@code slot} [R] is each row's flat index into the
   * routing's slots in [E, G, C] order (null with capacity routing, where every slot is a row, in
   * that order), {@code token} [R] its token in the whole batch, and the rows of each expert:
   * {@code staticSizes} with capacity routing (null otherwise), {@code sizes} [E] with dropless
   * routing (null otherwise).
   */
  record Rows(Operand<TInt32> slot, Operand<TInt32> token, Operand<TInt32> sizes, long[] staticSizes) {}

  /** Capacity routing: every slot, filled or not, G·C rows per expert. */
  private static <T extends TFloating> Rows capacityRows(Ops tf, Routing<T> routing, int groupSize, int experts) {
    long[] t = Shapes.of(routing.tokenIndex());
    long perExpert = t[0] * t[2];
    Operand<TInt32> byExpert = slotTokensByExpert(tf, routing, groupSize); // [E·G·C]
    long[] sizes = new long[experts];
    Arrays.fill(sizes, perExpert);
    return new Rows(null, byExpert, null, sizes);
  }

  /** Token of every slot in the whole batch, slots ordered [E, G, C] and flattened. */
  static <T extends TFloating> Operand<TInt32> slotTokensByExpert(Ops tf, Routing<T> routing, int groupSize) {
    long[] t = Shapes.of(routing.tokenIndex());
    Operand<TInt32> global = RouterMath.globalTokenIndex(tf, routing.tokenIndex(), groupSize); // [G, E, C]
    return tf.reshape(tf.linalg.transpose(global, tf.constant(new int[] {1, 0, 2})),
        tf.constant(new long[] {t[0] * t[1] * t[2]}));
  }

  /** A [G, E, C] routing tensor at every row: [R]. */
  private static <T extends TFloating> Operand<T> rowValues(Ops tf, Operand<T> perSlot, Rows rows) {
    long[] t = Shapes.of(perSlot);
    Operand<T> byExpert = tf.reshape(tf.linalg.transpose(perSlot, tf.constant(new int[] {1, 0, 2})),
        tf.constant(new long[] {t[0] * t[1] * t[2]})); // [E·G·C]
    return rows.slot() == null ? byExpert : tf.gather(byExpert, rows.slot(), tf.constant(0));
  }

  /**
   * Runs every expert on its contiguous rows: x [R, d] → [R, d]. One plain MatMul per expert and
   * weight (TF's oneDNN matmul; BatchMatMulV3 over [E, rows, d] ran slower on CPU, see
   * docs/moe-efficiency.md), on static row counts with capacity routing and dynamic ones with
   * dropless routing. With expert parallelism ({@link BuildContext#expertShards}) expert e's ops
   * run on its shard's device ({@link BuildContext#forExpert}): its rows are sent there and its
   * output rows come back for the combine; the stacked weights are the store's expert variables
   * ({@link dev.upcycle.model.graph.VariableStore#getExperts}).
   */
  private static <T extends TFloating> Operand<T> experts(BuildContext<T> ctx, String prefix, Operand<T> x, Rows rows,
      long d, long dFf, ExpertKind kind, double dropout) {
    Ops tf = ctx.tf();
    int experts = rows.staticSizes() != null ? rows.staticSizes().length : (int) Shapes.of(rows.sizes())[0];
    Operand<TInt32> sizes = rows.staticSizes() != null
        ? tf.constant(Arrays.stream(rows.staticSizes()).mapToInt(Math::toIntExact).toArray())
        : rows.sizes();
    Initializer init = Initializer.fanIn(1.0);
    List<org.tensorflow.Output<T>> in = tf.splitV(x, sizes, tf.constant(0), (long) experts).output();
    List<Operand<T>> outs = new ArrayList<>();
    if (kind == ExpertKind.GATED_GELU) {
      List<org.tensorflow.Output<T>> wi0 = perExpert(tf, ctx.store().getExperts(prefix + "/wi_0/kernel", new long[] {experts, d, dFf}, init), experts);
      List<org.tensorflow.Output<T>> wi1 = perExpert(tf, ctx.store().getExperts(prefix + "/wi_1/kernel", new long[] {experts, d, dFf}, init), experts);
      List<org.tensorflow.Output<T>> wo = perExpert(tf, ctx.store().getExperts(prefix + "/wo/kernel", new long[] {experts, dFf, d}, init), experts);
      for (int e = 0; e < experts; e++) {
        BuildContext<T> ec = ctx.forExpert(e);
        Operand<T> xe = ec.onDevice(in.get(e));
        Operand<T> gate = Activations.geluTanh(ec, ec.matMul(xe, ec.onDevice(wi0.get(e))));
        Operand<T> h = Dropout.apply(ec, ec.tf().math.mul(gate, ec.matMul(xe, ec.onDevice(wi1.get(e)))), dropout);
        outs.add(ec.matMul(h, ec.onDevice(wo.get(e))));
      }
    } else {
      List<org.tensorflow.Output<T>> wi = perExpert(tf, ctx.store().getExperts(prefix + "/wi/kernel", new long[] {experts, d, dFf}, init), experts);
      List<org.tensorflow.Output<T>> bi = perExpert(tf, ctx.store().getExperts(prefix + "/wi/bias", new long[] {experts, dFf}, Initializer.zeros()), experts);
      List<org.tensorflow.Output<T>> wo = perExpert(tf, ctx.store().getExperts(prefix + "/wo/kernel", new long[] {experts, dFf, d}, init), experts);
      List<org.tensorflow.Output<T>> bo = perExpert(tf, ctx.store().getExperts(prefix + "/wo/bias", new long[] {experts, d}, Initializer.zeros()), experts);
      for (int e = 0; e < experts; e++) {
        BuildContext<T> ec = ctx.forExpert(e);
        Operand<T> h = ec.tf().math.add(ec.matMul(ec.onDevice(in.get(e)), ec.onDevice(wi.get(e))),
            ec.onDevice(bi.get(e)));
        h = Dropout.apply(ec, Activations.geluTanh(ec, h), dropout);
        outs.add(ec.tf().math.add(ec.matMul(h, ec.onDevice(wo.get(e))), ec.onDevice(bo.get(e))));
      }
    }
    long rowsTotal = x.shape().size(0); // -1 when the row count is known only at run time
    return tf.reshape(tf.concat(outs, tf.constant(0)), tf.constant(new long[] {rowsTotal, d}));
  }

  /** Expert e's slice of a stacked expert weight [E, ...] → E × [...]. */
  private static <T extends TFloating> List<org.tensorflow.Output<T>> perExpert(Ops tf, Operand<T> stacked, int experts) {
    return tf.unstack(stacked, (long) experts).output();
  }

  /**
   * Refuses XLA with a dropless router: its experts' row counts change from step to step, and XLA
   * compiles static shapes only (SplitV's sizes must be compile-time constants), so the step would
   * fail to compile (or recompile every step). {@code where} names the setting, e.g. {@code xla}.
   */
  public static void checkXla(MoeConfig moe, boolean xla, String where) {
    boolean dropless = moe != null && moe.numExperts() > 0
        && (moe.encoderRouter().dropless() || moe.decoderRouter().dropless());
    checkArgument(!(xla && dropless), "%s: dropless MoE routing (moe.*_router.dropless) has dynamic per-expert row"
        + " counts, which XLA cannot compile; turn XLA off or use capacity routing", where);
  }

  /**
   * Tokens per routing group: all tokens when they fit in {@code maxGroupSize}, otherwise the
   * largest divisor of the token count not above it (so every group has the same size).
   */
  public static int groupSize(int tokens, int maxGroupSize) {
    checkArgument(tokens >= 1, "no tokens to route");
    if (tokens <= maxGroupSize) {
      return tokens;
    }
    for (int s = maxGroupSize; s >= 1; s--) {
      if (tokens % s == 0) {
        return s;
      }
    }
    return 1;
  }

}
