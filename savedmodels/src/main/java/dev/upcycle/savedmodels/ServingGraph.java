package dev.upcycle.savedmodels;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableMap;
import dev.upcycle.model.LmConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.Fills;
import dev.upcycle.model.graph.VariableStore;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

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
 * {@code score}: {@code input_ids} → {@code log_likelihood} [n] ({@link LmServing}). T5: greedy
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
    checkArgument(spec.arch() instanceof VitConfig || spec.arch() instanceof LmConfig
        || spec.arch() instanceof T5Config, "export knows ViT, LM and T5 models, not %s", spec.arch());
    Graph graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      VariableStore<TFloat32> store = new VariableStore<>(tf, TFloat32.class, 0);
      // no XLA here: top-K MoE layers multiply only their filled slots (same outputs, no padding rows)
      BuildContext<TFloat32> ctx = BuildContext.create(tf, store, false, null).withFilledSlotsOnly();
      Ops s = tf.withSubScope("serving");
      ImmutableMap<String, SignatureTensors> signatures;
      if (spec.arch() instanceof VitConfig vit) {
        signatures = VitServing.signatures(s, ctx, spec, vit, batch);
      } else if (spec.arch() instanceof LmConfig lm) {
        signatures = LmServing.signatures(s, ctx, spec, lm, batch, length);
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
      rows.add(Fills.zeros(s, s.constant(new int[] {rest, 2}), TInt32.class));
    }
    return s.concat(rows, s.constant(0)); // [rank, 2]
  }

  @Override
  public void close() {
    graph.close();
  }
}
