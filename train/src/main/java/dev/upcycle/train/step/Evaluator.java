package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.arch.ModelInputs;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.SessionConfigs;
import dev.upcycle.model.graph.XlaMode;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * Evaluation of a {@link TrainStep}'s current weights: a second, non-training graph of the same
 * model (no dropout, no jitter) in its own session, into which {@link #evaluate} first copies every
 * weight from the train session, one tensor at a time. (A second forward pass inside the train
 * graph would share the variables without copying, but TF Java's scoped op naming scans the whole
 * graph per scope, which makes building it there slow.) Reports the loss (cross-entropy + z-loss +
 * MoE terms, as trained) and accuracy: token accuracy over real target tokens (T5, LM) or top-1
 * accuracy over images (ViT), averaged over batches weighted by their token / example counts.
 */
public final class Evaluator<T extends TFloating> implements AutoCloseable {

  /**
   * @param loss weighted mean total loss
   * @param crossEntropy weighted mean cross-entropy
   * @param accuracy correct / counted
   * @param counted tokens (or examples) counted
   */
  public record Evaluation(double loss, double crossEntropy, double accuracy, long counted) {}

  private final TrainStep<T> step;
  private final ModelGraph<T> eval;
  private final Operand<T> correct;
  private final Operand<T> weight;

  private Evaluator(TrainStep<T> step) {
    this.step = step;
    ModelGraph<T> train = step.model();
    TrainStep.Options o = step.options();
    this.eval = ModelGraph.build(train.spec, train.shape, train.store.dtype(), false, o.initSeed(), false,
        SessionConfigs.of(o.xla() == XlaMode.AUTO, o.device().resolve()), o.zLossFactor(), o.labelSmoothing(),
        o.precision());
    try {
      Ops tf = eval.tf.withSubScope("accuracy");
      ModelInputs<T> inputs = eval.inputs;
      Class<T> dtype = train.store.dtype();
      long[] logitShape = eval.outputs.logits().shape().asArray();
      Operand<TInt32> predicted = tf.math.argMax(eval.outputs.logits(), tf.constant(logitShape.length - 1),
          TInt32.class);
      Operand<TInt32> truth = inputs.labels() != null ? inputs.labels() : inputs.targets();
      Operand<T> w = inputs.labels() != null ? tf.onesLike(tf.dtypes.cast(truth, dtype))
          : tf.dtypes.cast(tf.math.notEqual(truth, tf.constant(0)), dtype);
      Operand<T> hit = tf.math.mul(tf.dtypes.cast(tf.math.equal(predicted, truth), dtype), w);
      this.correct = tf.reduceSum(hit, allAxes(tf, logitShape.length - 1));
      this.weight = tf.reduceSum(w, allAxes(tf, logitShape.length - 1));
      checkArgument(eval.store.variables().size() == train.store.variables().size(),
          "the eval graph has %s variables, the train graph %s", eval.store.variables().size(),
          train.store.variables().size());
    } catch (RuntimeException e) {
      eval.close();
      throw e;
    }
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
    copyWeights();
    double lossSum = 0;
    double ceSum = 0;
    double hits = 0;
    double count = 0;
    for (int i = 0; i < batches; i++) {
      try (Batch b = source.nextBatch(i);
          Result r = b.feed(eval.session.runner(), eval.inputs).fetch(eval.totalLoss).fetch(eval.loss.crossEntropy())
              .fetch(correct)
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

  private void copyWeights() {
    for (ModelVariable<T> v : step.model().store.variables()) {
      try (Result r = step.session().runner().fetch(v.value()).run()) {
        ModelVariable<T> target = eval.store.variable(v.name());
        eval.session.runner().feed(target.loadValue(), r.get(0)).addTarget(target.loadOp()).run();
      }
    }
  }

  @Override
  public void close() {
    eval.close();
  }
}
