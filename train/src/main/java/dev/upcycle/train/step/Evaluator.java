package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.Losses;
import dev.upcycle.model.arch.ModelInputs;
import dev.upcycle.model.arch.ModelOutputs;
import dev.upcycle.model.arch.Models;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.VariableStore;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Evaluation inside a {@link TrainStep}'s graph and session: a second, non-training forward pass
 * (no dropout, no jitter) whose variables are the train step's own (same resource names), so it
 * always sees the current weights without copying. Reports the loss (cross-entropy + z-loss +
 * MoE terms, as trained) and accuracy: token accuracy over real target tokens (T5, LM) or top-1
 * accuracy over images (ViT), averaged over batches weighted by their token / example counts.
 */
public final class Evaluator<T extends TFloating> {

  /**
   * @param loss weighted mean total loss
   * @param crossEntropy weighted mean cross-entropy
   * @param accuracy correct / counted
   * @param counted tokens (or examples) counted
   */
  public record Evaluation(double loss, double crossEntropy, double accuracy, long counted) {}

  private final Session session;
  private final ModelInputs<T> inputs;
  private final Operand<T> totalLoss;
  private final Operand<T> crossEntropy;
  private final Operand<T> correct;
  private final Operand<T> weight;

  private Evaluator(TrainStep<T> step) {
    ModelSpec spec = step.model().spec;
    BatchShape shape = step.model().shape;
    Class<T> dtype = step.model().store.dtype();
    Ops tf = step.model().tf.withSubScope("eval");
    // A store with the same canonical names: its VarHandleOps share the train step's resources.
    VariableStore<T> shared = new VariableStore<>(tf, dtype, step.options().initSeed());
    BuildContext<T> ctx = BuildContext.create(tf, shared, false, null);
    this.inputs = ModelInputs.create(tf, spec, shape, dtype);
    ModelOutputs<T> out = Models.forward(ctx.scope("model"), spec, inputs);
    Losses.TokenLoss<T> loss = Models.loss(ctx.scope("loss"), spec, inputs, out, step.options().zLossFactor(),
        step.options().labelSmoothing());
    this.totalLoss = Models.totalLoss(ctx.scope("loss"), spec, loss, out);
    this.crossEntropy = loss.crossEntropy();
    long[] logitShape = out.logits().shape().asArray();
    Operand<TInt32> predicted = tf.math.argMax(out.logits(), tf.constant(logitShape.length - 1), TInt32.class);
    Operand<TInt32> truth = inputs.labels() != null ? inputs.labels() : inputs.targets();
    Operand<T> w = inputs.labels() != null ? tf.onesLike(tf.dtypes.cast(truth, dtype))
        : Losses.nonPaddingWeights(ctx, truth);
    Operand<T> hit = tf.math.mul(tf.dtypes.cast(tf.math.equal(predicted, truth), dtype), w);
    this.correct = tf.reduceSum(hit, allAxes(tf, logitShape.length - 1));
    this.weight = tf.reduceSum(w, allAxes(tf, logitShape.length - 1));
    this.session = step.session();
    checkArgument(shared.variables().size() == step.model().store.variables().size(),
        "the eval graph has %s variables, the train graph %s", shared.variables().size(),
        step.model().store.variables().size());
  }

  private static Operand<TInt32> allAxes(Ops tf, int rank) {
    int[] a = new int[rank];
    for (int i = 0; i < rank; i++) {
      a[i] = i;
    }
    return tf.constant(a);
  }

  /** Adds an evaluation pass to the step's graph. */
  public static <T extends TFloating> Evaluator<T> attach(TrainStep<T> step) {
    return new Evaluator<>(checkNotNull(step, "step"));
  }

  /** Evaluates batches {@code 0 .. batches-1} of {@code source}. */
  public Evaluation evaluate(BatchSource source, int batches) {
    checkNotNull(source, "source");
    checkArgument(batches >= 1, "batches must be >= 1, got %s", batches);
    double lossSum = 0;
    double ceSum = 0;
    double hits = 0;
    double count = 0;
    for (int i = 0; i < batches; i++) {
      try (Batch b = source.nextBatch(i);
          Result r = b.feed(session.runner(), inputs).fetch(totalLoss).fetch(crossEntropy).fetch(correct)
              .fetch(weight).run()) {
        double w = TrainStep.scalar(r.get(3));
        lossSum += TrainStep.scalar(r.get(0)) * w;
        ceSum += TrainStep.scalar(r.get(1)) * w;
        hits += TrainStep.scalar(r.get(2));
        count += w;
      }
    }
    double denom = Math.max(count, 1e-12);
    return new Evaluation(lossSum / denom, ceSum / denom, hits / denom, Math.round(count));
  }
}
