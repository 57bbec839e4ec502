package dev.upcycle.savedmodels;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableMap;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.VitModel;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
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

  private ServingGraph(Graph graph, VariableStore<TFloat32> store, ImmutableMap<String, SignatureTensors> signatures,
      int batch) {
    this.graph = graph;
    this.store = store;
    this.signatures = signatures;
    this.batch = batch;
  }

  /** Builds the serving graph of {@code spec} for requests of up to {@code batch} examples. */
  public static ServingGraph build(ModelSpec spec, int batch) {
    checkArgument(batch >= 1, "batch must be >= 1, got %s", batch);
    if (!(spec.arch() instanceof VitConfig vit)) {
      throw new UnsupportedOperationException("export supports ViT classifiers so far; " + spec.arch().getClass()
          .getSimpleName() + " (T5 greedy decoding, LM next-token logits) is not built yet (see docs/serving.md)");
    }
    Graph graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      VariableStore<TFloat32> store = new VariableStore<>(tf, TFloat32.class, 0);
      BuildContext<TFloat32> ctx = BuildContext.create(tf, store, false, null);
      Ops s = tf.withSubScope("serving");
      int h = vit.imageSize();
      int c = vit.channels();
      Placeholder<TFloat32> images = s.withName("images").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE, h, h, c)));
      Operand<TInt32> n = s.withName("batch_size").slice(s.shape(images), s.constant(new int[] {0}),
          s.constant(new int[] {1})); // [1]
      AssertThat check = s.withName("check_batch").assertThat(
          s.math.logicalAnd(s.reduceAll(s.math.greaterEqual(n, s.constant(new int[] {1})), s.constant(0)),
              s.reduceAll(s.math.lessEqual(n, s.constant(new int[] {batch})), s.constant(0))),
          List.of(s.constant("request batch must hold 1 to " + batch + " examples (the export batch); got"), n));
      Ops guarded = s.withControlDependencies(List.of(check));
      Operand<TInt32> batchPad = s.concat(List.of(s.constant(new int[] {0}),
          s.math.sub(s.constant(new int[] {batch}), n)), s.constant(0)); // [0, batch - n]
      Operand<TInt32> paddings = s.concat(List.of(s.reshape(batchPad, s.constant(new int[] {1, 2})),
          s.zeros(s.constant(new int[] {3, 2}), TInt32.class)), s.constant(0)); // [4, 2]
      Operand<TFloat32> padded = guarded.withName("padded_images").ensureShape(
          s.pad(images, paddings, s.constant(0f)), Shape.of(batch, h, h, c)); // [batch, H, W, C]
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
      ImmutableMap<String, SignatureTensors> signatures = ImmutableMap.of(
          DEFAULT_SIGNATURE, new SignatureTensors(ImmutableMap.of("images", images),
              ImmutableMap.of("logits", logits, "probabilities", probabilities, "classes", classes)),
          SCORE_SIGNATURE, new SignatureTensors(ImmutableMap.of("images", images, "labels", labels),
              ImmutableMap.of("log_likelihood", likelihood)));
      return new ServingGraph(graph, store, signatures, batch);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  @Override
  public void close() {
    graph.close();
  }
}
