package dev.upcycle.train.optim;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.names.CanonicalNames;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter): with update number {@code t} (1-based),
 * <pre>
 *   m ← β1·m + (1-β1)·g;  v ← β2·v + (1-β2)·g²
 *   p ← p - lr · ( (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε) + weightDecay · p )
 * </pre>
 * Slots {@code m} and {@code v} in the compute dtype.
 *
 * @param beta1 0.9
 * @param beta2 0.999
 * @param eps 1e-8
 * @param weightDecay decoupled decay rate, multiplied by the learning rate (0.01, PyTorch's default)
 */
public record AdamW(double beta1, double beta2, double eps, double weightDecay) implements Optimizer {

  public AdamW {
    checkArgument(beta1 >= 0 && beta1 < 1, "adamw beta1 must be in [0, 1), got %s", beta1);
    checkArgument(beta2 >= 0 && beta2 < 1, "adamw beta2 must be in [0, 1), got %s", beta2);
    checkArgument(eps > 0, "adamw eps must be > 0, got %s", eps);
    checkArgument(weightDecay >= 0, "adamw weight decay must be >= 0, got %s", weightDecay);
  }

  public static final double DEFAULT_WEIGHT_DECAY = 0.01;

  public static AdamW defaults() {
    return new AdamW(0.9, 0.999, 1e-8, DEFAULT_WEIGHT_DECAY);
  }

  @Override
  public String name() {
    return "adamw";
  }

  @Override
  public <T extends TFloating> List<Op> update(Ops tf, StateStore state, ModelVariable<T> param, Operand<T> g,
      Operand<T> lr, Operand<T> count, Class<T> dtype) {
    Operand<T> p = param.value();
    StateVariable<T> m = state.slot(param, CanonicalNames.M, dtype, param.shape(), true);
    StateVariable<T> v = state.slot(param, CanonicalNames.V, dtype, param.shape(), true);
    Operand<T> one = Optimizer.constant(tf, 1, dtype);
    Operand<T> b1 = Optimizer.constant(tf, beta1, dtype);
    Operand<T> b2 = Optimizer.constant(tf, beta2, dtype);
    Operand<T> newM = tf.math.add(tf.math.mul(b1, m.value()), tf.math.mul(tf.math.sub(one, b1), g));
    Operand<T> newV = tf.math.add(tf.math.mul(b2, v.value()), tf.math.mul(tf.math.sub(one, b2), tf.math.square(g)));
    Operand<T> mHat = tf.math.div(newM, tf.math.sub(one, tf.math.pow(b1, count)));
    Operand<T> vHat = tf.math.div(newV, tf.math.sub(one, tf.math.pow(b2, count)));
    Operand<T> u = tf.math.div(mHat, tf.math.add(tf.math.sqrt(vHat), Optimizer.constant(tf, eps, dtype)));
    if (weightDecay > 0) {
      u = tf.math.add(u, tf.math.mul(Optimizer.constant(tf, weightDecay, dtype), p));
    }
    return List.of(
        m.assign(tf, newM),
        v.assign(tf, newV),
        param.assign(tf, tf.math.sub(p, tf.math.mul(lr, u))));
  }
}
