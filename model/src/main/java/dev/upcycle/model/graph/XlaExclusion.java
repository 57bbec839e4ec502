package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkNotNull;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import org.tensorflow.DeviceSpec;
import org.tensorflow.ExecutionEnvironment;
import org.tensorflow.Operation;
import org.tensorflow.OperationBuilder;
import org.tensorflow.op.Ops;
import org.tensorflow.op.Scope;

/**
 * Ops kept out of XLA auto-clustering: every op built through {@link #ops(Ops)} (and every
 * {@code Ops} derived from it: sub-scopes, names, control dependencies, devices) carries
 * {@code _XlaCompile = false}, which TF's {@code mark_for_compilation_pass} obeys before its global
 * jit level, so TensorFlow's own kernels run them. Nodes that grappler creates from them (constant
 * folding) lose the attribute and may still be clustered.
 *
 * <p>Used for a train step's update under {@link XlaMode#AUTO} ({@link XlaMode#updateOps}): clustered, the optimizer's
 * element-wise work over every parameter became one XLA cluster of ~8,000 nodes that ran for
 * ~0.7 s of a t5-small MoE step, where TF runs the same ops in parallel (docs/xla.md). Not for
 * {@link XlaMode#MODULE}, which compiles everything in its function by design.
 */
public final class XlaExclusion {

  /** TF's per-node compile attribute ({@code kXlaCompileAttr}). */
  public static final String XLA_COMPILE_ATTR = "_XlaCompile";

  private static final Constructor<Ops> OPS_FROM_SCOPE = opsConstructor();

  private XlaExclusion() {}

  /** {@code tf}'s scope, with every op it builds marked not to be compiled. */
  public static Ops ops(Ops tf) {
    checkNotNull(tf, "tf");
    Scope s = tf.scope();
    return s instanceof ExcludingScope ? tf : wrap(new ExcludingScope(s));
  }

  private static Ops wrap(Scope scope) {
    try {
      return OPS_FROM_SCOPE.newInstance(scope);
    } catch (InstantiationException | IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot create TensorFlow Ops over a custom scope", e);
    }
  }

  /** {@code Ops(Scope)} is package-private in TF Java 1.1.0; reachable because TF runs on the class path. */
  private static Constructor<Ops> opsConstructor() {
    try {
      Constructor<Ops> c = Ops.class.getDeclaredConstructor(Scope.class);
      c.setAccessible(true);
      return c;
    } catch (NoSuchMethodException | RuntimeException e) {
      throw new IllegalStateException("TensorFlow Java's Ops(Scope) constructor is not reachable", e);
    }
  }

  /** A scope that delegates everything and adds {@code _XlaCompile = false} to each op it applies to. */
  private record ExcludingScope(Scope delegate) implements Scope {

    @Override
    public ExecutionEnvironment env() {
      return delegate.env();
    }

    @Override
    public Scope withSubScope(String childScopeName) {
      return new ExcludingScope(delegate.withSubScope(childScopeName));
    }

    @Override
    public Scope withName(String opName) {
      return new ExcludingScope(delegate.withName(opName));
    }

    @Override
    public Scope withNameAsSubScope(String defaultName) {
      return new ExcludingScope(delegate.withNameAsSubScope(defaultName));
    }

    @Override
    public Scope withDevice(DeviceSpec deviceSpec) {
      return new ExcludingScope(delegate.withDevice(deviceSpec));
    }

    @Override
    public Scope withInitScope() {
      return new ExcludingScope(delegate.withInitScope());
    }

    @Override
    public String makeOpName(String defaultName) {
      return delegate.makeOpName(defaultName);
    }

    @Override
    public String makeUnique(String id) {
      return delegate.makeUnique(id);
    }

    @Override
    public void refreshNames() {
      delegate.refreshNames();
    }

    @Override
    public Scope withControlDependencyOps(Iterable<Operation> controls) {
      return new ExcludingScope(delegate.withControlDependencyOps(controls));
    }

    @Override
    public OperationBuilder apply(OperationBuilder builder) {
      return delegate.apply(builder).setAttr(XLA_COMPILE_ATTR, false);
    }

    @Override
    public String getDeviceString() {
      return delegate.getDeviceString();
    }

    @Override
    public boolean isInit() {
      return delegate.isInit();
    }
  }
}
