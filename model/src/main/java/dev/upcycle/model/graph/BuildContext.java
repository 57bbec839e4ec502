package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * What every layer builder needs: the ops under the current name scope, the variable store, the
 * compute dtype, the mixed-precision policy of matmuls ({@link Precision}), whether this graph
 * trains (dropout, jitter), whether MoE layers may skip empty expert slots (graphs XLA does not
 * compile: {@link #withFilledSlotsOnly}), and a seed operand that callers change per step so stateless random ops
 * draw new numbers each step.
 */
public final class BuildContext<T extends TFloating> {

  private final Ops tf;
  private final VariableStore<T> store;
  private final boolean training;
  private final Operand<TInt64> stepSeed;
  private final int[] randomSites;
  private final Precision precision;
  /** Where each expert's ops run (expert parallelism); null: where the layer runs. */
  private final ExpertShards expertShards;
  /** Whether top-K capacity-routed MoE layers multiply only the filled slots (a row count known at run time). */
  private final boolean filledSlotsOnly;

  private BuildContext(Ops tf, VariableStore<T> store, boolean training, Operand<TInt64> stepSeed, int[] sites,
      Precision precision, ExpertShards expertShards, boolean filledSlotsOnly) {
    this.filledSlotsOnly = filledSlotsOnly;
    this.precision = precision;
    this.expertShards = expertShards;
    this.tf = tf;
    this.store = store;
    this.training = training;
    this.stepSeed = stepSeed;
    this.randomSites = sites;
  }

  /**
   * A root context. {@code stepSeed} is a scalar int64 (fed or computed per step); it may be null
   * when the graph uses no randomness (inference, or training with dropout and jitter off).
   */
  public static <T extends TFloating> BuildContext<T> create(Ops tf, VariableStore<T> store, boolean training,
      Operand<TInt64> stepSeed) {
    return create(tf, store, training, stepSeed, Precision.FLOAT32);
  }

  /** A root context whose matmuls follow {@code precision}. */
  public static <T extends TFloating> BuildContext<T> create(Ops tf, VariableStore<T> store, boolean training,
      Operand<TInt64> stepSeed, Precision precision) {
    return new BuildContext<>(checkNotNull(tf, "ops"), checkNotNull(store, "store"), training, stepSeed, new int[1],
        checkNotNull(precision, "precision"), null, false);
  }

  /**
   * This context with expert parallelism: the ops of expert {@code e} of every MoE layer (its
   * matmuls, activation, dropout, biases) run on {@code shards.deviceOfExpert(e)}
   * ({@link #forExpert}); one shard (or null) = none.
   */
  public BuildContext<T> withExpertShards(ExpertShards shards) {
    return new BuildContext<>(tf, store, training, stepSeed, randomSites, precision,
        shards == null || shards.count() == 1 ? null : shards, filledSlotsOnly);
  }

  /**
   * This context for an inference graph that XLA does not compile (the exported SavedModels): MoE
   * layers with top-K capacity routing multiply only the slots a token fills, whose number is known
   * at run time, instead of every slot of the capacity. An empty slot's row has combine weight 0,
   * so the outputs are the same; the experts just skip the padding (docs/serving.md). Refused on a
   * training context: there the capacity's static shapes are what XLA and the benchmarks count.
   */
  public BuildContext<T> withFilledSlotsOnly() {
    checkArgument(!training, "filled-slots-only MoE rows are for inference graphs, not training");
    return new BuildContext<>(tf, store, training, stepSeed, randomSites, precision, expertShards, true);
  }

  /** Whether top-K capacity-routed MoE layers multiply only the filled slots ({@link #withFilledSlotsOnly}). */
  public boolean filledSlotsOnly() {
    return filledSlotsOnly;
  }

  /**
   * {@code x} on this context's device: with expert parallelism (on a {@link #forExpert} context)
   * an Identity there, so the expert's ops — and their gradients, which run where their inputs are
   * — read it locally; without, {@code x} itself.
   */
  public Operand<T> onDevice(Operand<T> x) {
    return expertShards == null ? x : tf.identity(x);
  }

  /** The expert shards of this context; null without expert parallelism. */
  public ExpertShards expertShards() {
    return expertShards;
  }

  /**
   * The context of expert {@code e}'s ops: this one without expert parallelism; else on the
   * expert's shard device, under the op scope {@code expert_<e>}.
   */
  public BuildContext<T> forExpert(int e) {
    if (expertShards == null) {
      return this;
    }
    return new BuildContext<>(tf.withDevice(expertShards.deviceOfExpert(e)).withSubScope("expert_" + e), store,
        training, stepSeed, randomSites, precision, expertShards, filledSlotsOnly);
  }

  /** The policy every matmul of the model goes through. */
  public Precision precision() {
    return precision;
  }

  /** {@code a · b} ([m, k] × [k, n]) under this context's precision. */
  public Operand<T> matMul(Operand<T> a, Operand<T> b) {
    return precision.matMul(tf, a, b, dtype());
  }

  /** Batched {@code a · b} ({@code adjY}: b transposed in its last two axes) under this context's precision. */
  public Operand<T> batchMatMul(Operand<T> a, Operand<T> b, boolean adjY) {
    return precision.batchMatMul(tf, a, b, dtype(), adjY);
  }

  public Ops tf() {
    return tf;
  }

  public VariableStore<T> store() {
    return store;
  }

  public Class<T> dtype() {
    return store.dtype();
  }

  public boolean training() {
    return training;
  }

  /** The same context under a sub-scope of op names (variable names are unaffected). */
  public BuildContext<T> scope(String name) {
    return new BuildContext<>(tf.withSubScope(name), store, training, stepSeed, randomSites, precision, expertShards,
        filledSlotsOnly);
  }

  /** A constant of the compute dtype. */
  public Operand<T> constant(double value) {
    return tf.dtypes.cast(tf.constant(value), dtype());
  }

  /**
   * A fresh [2] int64 seed for one random site: (step seed, site number). Throws when the graph was
   * built without a step seed, because then every step would draw the same numbers.
   */
  public Operand<TInt64> nextSeed() {
    if (stepSeed == null) {
      throw new IllegalStateException("this graph uses randomness (dropout or jitter) but was built without a step seed");
    }
    int site = ++randomSites[0];
    return tf.stack(java.util.List.of(stepSeed, tf.constant((long) site)));
  }
}
