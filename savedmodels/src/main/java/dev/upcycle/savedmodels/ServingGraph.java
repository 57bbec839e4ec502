package dev.upcycle.savedmodels;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableMap;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.DecoderLm;
import dev.upcycle.model.arch.VitModel;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssertThat;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The inference graph of one model for serving, with the tensors its signatures name. Owns the
 * graph.
 *
 * <p>ViT ({@code serving_default}): {@code images} float32 [n, H, W, C] with 1 ≤ n ≤ batch →
 * {@code logits} [n, classes], {@code probabilities} (softmax) [n, classes], {@code classes}
 * (argmax, int64) [n]. {@code score}: {@code images} + {@code labels} int32 [n] →
 * {@code log_likelihood} [n] (log-softmax at the label). The model itself runs on [batch, H, W, C]:
 * the request is zero-padded to the export batch inside the graph and the outputs are cut back to
 * n rows; more than {@code batch} examples fail with a message saying so. Dropout and router
 * jitter are off. With Expert Choice routing an image's output can depend on the other images of
 * its routing group, exactly as in evaluation (DESIGN.md §5); a dense model's cannot.
 *
 * <p>Decoder-only LM: {@code input_ids} [n, l] → next-token {@code logits} [n, vocab];
 * {@code score}: {@code input_ids} → {@code log_likelihood} [n] (see {@link #lm}). T5: greedy
 * {@code output_ids} and {@code score} ({@link T5Serving}).
 */
public final class ServingGraph implements AutoCloseable {

  /** {@code tensorflow/serving/predict}. */
  public static final String PREDICT_METHOD = "tensorflow/serving/predict";
  public static final String DEFAULT_SIGNATURE = "serving_default";
  public static final String SCORE_SIGNATURE = "score";

  /** One signature: input and output keys → graph tensors. */
  public record SignatureTensors(ImmutableMap<String, Operand<?>> inputs, ImmutableMap<String, Operand<?>> outputs) {}

  public final Graph graph;
  public final VariableStore<TFloat32> store;
  public final ImmutableMap<String, SignatureTensors> signatures;
  public final int batch;
  /** Token models: the sequence length the model runs on (requests hold up to length - 1 tokens). */
  public final int length;

  private ServingGraph(Graph graph, VariableStore<TFloat32> store, ImmutableMap<String, SignatureTensors> signatures,
      int batch, int length) {
    this.graph = graph;
    this.store = store;
    this.signatures = signatures;
    this.batch = batch;
    this.length = length;
  }

  /**
   * Builds the serving graph of {@code spec} for requests of up to {@code batch} examples (and, for
   * token models, up to {@code length} tokens).
   */
  public static ServingGraph build(ModelSpec spec, int batch, int length, int targetLength) {
    checkArgument(batch >= 1, "batch must be >= 1, got %s", batch);
    checkArgument(length >= 2, "length must be >= 2, got %s", length);
    checkArgument(targetLength >= 2, "targetLength must be >= 2, got %s", targetLength);
    if (!(spec.arch() instanceof VitConfig) && !(spec.arch() instanceof LmConfig)
        && !(spec.arch() instanceof T5Config)) {
      throw new UnsupportedOperationException("export has no serving graph for "
          + spec.arch().getClass().getSimpleName());
    }
    Graph graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      VariableStore<TFloat32> store = new VariableStore<>(tf, TFloat32.class, 0);
      BuildContext<TFloat32> ctx = BuildContext.create(tf, store, false, null);
      Ops s = tf.withSubScope("serving");
      ImmutableMap<String, SignatureTensors> signatures;
      if (spec.arch() instanceof VitConfig vit) {
        signatures = vit(s, ctx, spec, vit, batch);
      } else if (spec.arch() instanceof LmConfig lm) {
        signatures = lm(s, ctx, spec, lm, batch, length);
      } else {
        signatures = T5Serving.signatures(graph, s, ctx, spec, (T5Config) spec.arch(), batch, length, targetLength);
      }
      return new ServingGraph(graph, store, signatures, batch, length);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** [1] holding the request's batch size, after checking 1 <= n <= batch. */
  static Operand<TInt32> requestSize(Ops s, Operand<?> input, int batch, List<Op> checks) {
    Operand<TInt32> n = s.withName("batch_size").slice(s.shape(input), s.constant(new int[] {0}),
        s.constant(new int[] {1})); // [1]
    checks.add(s.withName("check_batch").assertThat(
        s.math.logicalAnd(s.reduceAll(s.math.greaterEqual(n, s.constant(new int[] {1})), s.constant(0)),
            s.reduceAll(s.math.lessEqual(n, s.constant(new int[] {batch})), s.constant(0))),
        List.of(s.constant("request batch must hold 1 to " + batch + " examples (the export batch); got"), n)));
    return n;
  }

  /** Paddings [rank, 2] that grow dimension 0 from {@code n} to {@code batch} (and dimension 1 by {@code extra1}). */
  static Operand<TInt32> padTo(Ops s, Operand<TInt32> n, int batch, Operand<TInt32> extra1, int rank) {
    Operand<TInt32> first = s.concat(List.of(s.constant(new int[] {0}), s.math.sub(s.constant(new int[] {batch}), n)),
        s.constant(0)); // [2]
    List<Operand<TInt32>> rows = new java.util.ArrayList<>();
    rows.add(s.reshape(first, s.constant(new int[] {1, 2})));
    if (extra1 != null) {
      rows.add(s.reshape(s.concat(List.of(s.constant(new int[] {0}), extra1), s.constant(0)),
          s.constant(new int[] {1, 2})));
    }
    int rest = rank - rows.size();
    if (rest > 0) {
      rows.add(s.zeros(s.constant(new int[] {rest, 2}), TInt32.class));
    }
    return s.concat(rows, s.constant(0)); // [rank, 2]
  }

  private static ImmutableMap<String, SignatureTensors> vit(Ops s, BuildContext<TFloat32> ctx, ModelSpec spec,
      VitConfig vit, int batch) {
    int h = vit.imageSize();
    int c = vit.channels();
    Placeholder<TFloat32> images = s.withName("images").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE, h, h, c)));
    List<Op> checks = new java.util.ArrayList<>();
    Operand<TInt32> n = requestSize(s, images, batch, checks);
    Ops g = s.withControlDependencies(checks); // the pad must not run before the checks
    Operand<TFloat32> padded = g.withName("padded_images").ensureShape(
        g.pad(images, padTo(g, n, batch, null, 4), g.constant(0f)), Shape.of(batch, h, h, c)); // [batch, H, W, C]
    Operand<TFloat32> full = VitModel.build(ctx.scope("model"), spec, padded).logits(); // [batch, classes]
    Operand<TInt32> keep = s.concat(List.of(n, s.constant(new int[] {-1})), s.constant(0));
    Operand<TFloat32> logits = s.withName("logits").slice(full, s.constant(new int[] {0, 0}), keep); // [n, classes]
    Operand<TFloat32> probabilities = s.withName("probabilities").nn.softmax(logits);
    Operand<TInt64> classes = s.withName("classes").math.argMax(logits, s.constant(1), TInt64.class);
    Placeholder<TInt32> labels = s.withName("labels").placeholder(TInt32.class,
        Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE)));
    AssertThat labelCheck = s.withName("check_labels").assertThat(s.math.logicalAnd(
        s.reduceAll(s.math.equal(s.shape(labels), n), s.constant(0)),
        s.reduceAll(s.math.logicalAnd(s.math.greaterEqual(labels, s.constant(0)),
            s.math.less(labels, s.constant(vit.numClasses()))), s.constant(0))),
        List.of(s.constant("labels must be one per image, each in [0, " + vit.numClasses() + "); got"), labels));
    Operand<TFloat32> logProbs = s.withControlDependencies(List.of(labelCheck)).nn.logSoftmax(logits); // [n, classes]
    Operand<TInt32> rows = s.range(s.constant(0), s.reshape(n, s.constant(new int[0])), s.constant(1));
    Operand<TFloat32> likelihood = s.withName("log_likelihood").gatherNd(logProbs,
        s.stack(List.of(rows, labels), org.tensorflow.op.core.Stack.axis(1L))); // [n]
    return ImmutableMap.of(
        DEFAULT_SIGNATURE, new SignatureTensors(ImmutableMap.of("images", images),
            ImmutableMap.of("logits", logits, "probabilities", probabilities, "classes", classes)),
        SCORE_SIGNATURE, new SignatureTensors(ImmutableMap.of("images", images, "labels", labels),
            ImmutableMap.of("log_likelihood", likelihood)));
  }

  /**
   * Decoder-only LM. {@code input_ids} int32 [n, l], 1 <= l <= length - 1, each row a prompt of
   * k >= 1 non-zero token ids right-padded with 0. The model reads [0, x_1 … x_k] (0 = BOS, as in
   * training) on [batch, length]; {@code serving_default} returns the logits at position k, the
   * distribution of x_{k+1}: {@code logits} [n, vocab]. {@code score} returns
   * {@code log_likelihood} [n] = Σ_{t=1..k} log p(x_t | x_<t). Causal attention makes the padding
   * after position k irrelevant.
   */
  private static ImmutableMap<String, SignatureTensors> lm(Ops s, BuildContext<TFloat32> ctx, ModelSpec spec,
      LmConfig lm, int batch, int length) {
    Placeholder<TInt32> ids = s.withName("input_ids").placeholder(TInt32.class,
        Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE, Shape.UNKNOWN_SIZE)));
    List<Op> checks = new java.util.ArrayList<>();
    Operand<TInt32> n = requestSize(s, ids, batch, checks);
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
        g.pad(shifted, padTo(g, n, batch, extra, 2), g.constant(0)), Shape.of(batch, length)); // [batch, length]
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
        DEFAULT_SIGNATURE, new SignatureTensors(ImmutableMap.of("input_ids", ids), ImmutableMap.of("logits", next)),
        SCORE_SIGNATURE, new SignatureTensors(ImmutableMap.of("input_ids", ids),
            ImmutableMap.of("log_likelihood", likelihood)));
  }

  @Override
  public void close() {
    graph.close();
  }
}
