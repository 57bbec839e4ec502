package dev.upcycle.train.optim;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import dev.upcycle.model.graph.ExpertShards;
import dev.upcycle.model.graph.Fills;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.PartedVariable;
import dev.upcycle.model.names.CanonicalNames;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssignVariableOp;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * Canonical name → optimizer-state resource variable, created zero-initialised in the graph of the
 * train step. Names follow DESIGN.md §3: {@code state/param_states/<param>/{m,v,v_row,v_col}} and
 * {@code state/step}. Like the model's variable store, each variable is read once.
 */
public final class StateStore {

  private final Ops tf;
  private final Map<String, StateVariable<?>> variables = new LinkedHashMap<>();

  public StateStore(Ops tf) {
    this.tf = checkNotNull(tf, "ops");
  }

  /** Creates a zero-initialised variable; a name may be created once. */
  public <T extends TType> StateVariable<T> create(String name, Class<T> type, long[] shape) {
    return create(name, type, shape, null);
  }

  /**
   * Creates the zero-initialised slot {@code slotName} of {@code param}
   * ({@code state/param_states/<param>/<slot>}). When the parameter is stored in parts (expert
   * parallelism) and the slot keeps its expert axis 0 ({@code keepsExpertAxis}: the slot's rows are
   * the parameter's experts), the slot is stored in parts on the same shards, so it lives where its
   * expert does; otherwise it is stored whole.
   */
  public <T extends TType> StateVariable<T> slot(ModelVariable<?> param, String slotName, Class<T> type, long[] shape,
      boolean keepsExpertAxis) {
    String name = CanonicalNames.slot(param.name(), slotName);
    return create(name, type, shape, param.isParted() && keepsExpertAxis ? param.parts().shards() : null);
  }

  private <T extends TType> StateVariable<T> create(String name, Class<T> type, long[] shape, ExpertShards shards) {
    checkNotNull(name, "state variable name");
    checkArgument(!variables.containsKey(name), "state variable %s created twice", name);
    // Op names spell the variable's path with dots, set by withName only: Ops.withSubScope scans
    // the whole graph on every call, which is quadratic over hundreds of variables. The canonical
    // name is the variable's shared_name.
    String path = "state_vars." + Arrays.stream(name.split("/"))
        .map(p -> p.replaceAll("[^A-Za-z0-9_.-]", "_"))
        .collect(Collectors.joining("."));
    if (shards != null) {
      PartedVariable<T> parts = PartedVariable.create(tf, shards, name, type, shape, suffix -> path + "." + suffix,
          Fills.zeros(tf, tf.constant(shape), type));
      StateVariable<T> v = new StateVariable<>(name, type, shape.clone(), null, parts.value(), parts.initOp(),
          parts.loadValue(), parts.loadOp(), parts);
      variables.put(name, v);
      return v;
    }
    Shape s = Shape.of(shape);
    VarHandleOp handle = tf.withName(path + ".handle").varHandleOp(type, s, VarHandleOp.sharedName(name));
    Operand<T> value = tf.withName(path + ".read").readVariableOp(handle, type);
    AssignVariableOp init = tf.withName(path + ".init").assignVariableOp(handle,
        Fills.zeros(tf, tf.constant(shape), type));
    Placeholder<T> load = tf.withName(path + ".load_value").placeholder(type, Placeholder.shape(s));
    AssignVariableOp loadOp = tf.withName(path + ".load").assignVariableOp(handle, load);
    StateVariable<T> v = new StateVariable<>(name, type, shape.clone(), handle, value, init, load, loadOp, null);
    variables.put(name, v);
    return v;
  }

  /** The step counter, created on first use (int32 scalar). */
  @SuppressWarnings("unchecked")
  public StateVariable<TInt32> step() {
    StateVariable<?> v = variables.get(CanonicalNames.STEP);
    return v != null ? (StateVariable<TInt32>) v : create(CanonicalNames.STEP, TInt32.class, new long[0]);
  }

  /** Variables in creation order. */
  public ImmutableList<StateVariable<?>> variables() {
    return ImmutableList.copyOf(variables.values());
  }

  public boolean contains(String name) {
    return variables.containsKey(name);
  }

  public StateVariable<?> variable(String name) {
    StateVariable<?> v = variables.get(name);
    checkArgument(v != null, "no optimizer state variable named %s", name);
    return v;
  }

  /** Sets every state variable to zero. */
  public void initialize(Session session) {
    if (variables.isEmpty()) {
      return;
    }
    Session.Runner r = session.runner();
    variables.values().forEach(v -> r.addTarget(v.initOp()));
    r.run();
  }
}
