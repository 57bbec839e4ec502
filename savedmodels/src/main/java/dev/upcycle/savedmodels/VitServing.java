package dev.upcycle.savedmodels;

import com.google.common.collect.ImmutableMap;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.VitModel;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.savedmodels.ServingGraph.SignatureTensors;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssertThat;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/** ViT classifier signatures (see {@link ServingGraph}). */
final class VitServing {

  private VitServing() {}

  static ImmutableMap<String, SignatureTensors> signatures(Ops s, BuildContext<TFloat32> ctx, ModelSpec spec,
      VitConfig vit, int batch) {
    int h = vit.imageSize();
    int c = vit.channels();
    Placeholder<TFloat32> images = s.withName("images").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE, h, h, c)));
    // the graph checks what it needs (TF Serving feeds the request's shape as it is): [n, H, W, C]
    Operand<TFloat32> checked = s.withName("check_images").ensureShape(images,
        Shape.of(Shape.UNKNOWN_SIZE, h, h, c)); // [n, H, W, C]
    List<Op> checks = new java.util.ArrayList<>();
    Operand<TInt32> n = ServingGraph.requestSize(s, checked, batch, checks);
    Ops g = s.withControlDependencies(checks); // the pad must not run before the checks
    Operand<TFloat32> padded = g.withName("padded_images").ensureShape(
        g.pad(checked, ServingGraph.padTo(g, n, batch, null, 4), g.constant(0f)), Shape.of(batch, h, h, c)); // [batch, H, W, C]
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
        ServingGraph.DEFAULT_SIGNATURE, new SignatureTensors(ImmutableMap.of("images", images),
            ImmutableMap.of("logits", logits, "probabilities", probabilities, "classes", classes)),
        ServingGraph.SCORE_SIGNATURE, new SignatureTensors(ImmutableMap.of("images", images, "labels", labels),
            ImmutableMap.of("log_likelihood", likelihood)));
  }

}
