package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssignVariableOp;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Canonical name (DESIGN.md §3) → resource variable. Every graph (train, eval, serving) asks the
 * store for its parameters by name and shape; the first request creates the variable, later ones
 * must agree on the shape. Each variable is read once, so gradients with respect to
 * {@link ModelVariable#value()} are the parameter gradients. A store made with
 * {@link ExpertShards} keeps the stacked expert variables ({@link #getExperts}) in per-shard parts
 * ({@link PartedVariable}); their value is still the canonical tensor.
 */
public final class VariableStore<T extends TFloating> {

  private final Ops tf;
  private final Class<T> dtype;
  private final long seed;
  private final Map<String, ModelVariable<T>> variables = new LinkedHashMap<>();
  private final Map<String, Operand<T>> bound = new LinkedHashMap<>();
  private final Map<String, Ops> scopes = new java.util.HashMap<>();
  /** Where expert variables are stored in parts; null: every variable whole. */
  private final ExpertShards expertShards;

  public VariableStore(Ops tf, Class<T> dtype, long seed) {
    this(tf, dtype, seed, null);
  }

  /**
   * A store whose expert variables ({@link #getExperts}) are stored in parts over
   * {@code expertShards} (null or one shard: whole, as the other constructor).
   */
  public VariableStore(Ops tf, Class<T> dtype, long seed, ExpertShards expertShards) {
    this.tf = checkNotNull(tf, "ops");
    this.dtype = checkNotNull(dtype, "dtype");
    this.seed = seed;
    this.expertShards = expertShards == null || expertShards.count() == 1 ? null : expertShards;
  }

  public Class<T> dtype() {
    return dtype;
  }

  /**
   * The value of variable {@code name} with {@code shape}; created with {@code init} on first use.
   * A second request with another shape is an error naming both shapes.
   */
  public Operand<T> get(String name, long[] shape, Initializer init) {
    return get(name, shape, init, false);
  }

  /**
   * {@link #get} for a stacked expert variable [E, ...] (axis 0 the expert): stored in parts, one
   * per expert shard on its device, when this store has expert shards; its value is the canonical
   * [E, ...] tensor either way.
   */
  public Operand<T> getExperts(String name, long[] shape, Initializer init) {
    return get(name, shape, init, true);
  }

  private Operand<T> get(String name, long[] shape, Initializer init, boolean experts) {
    checkNotNull(name, "variable name");
    Operand<T> external = bound.get(name);
    if (external != null) {
      long[] have = external.shape().asArray();
      checkArgument(Arrays.equals(have, shape), "operand bound to %s has shape %s; requested %s", name,
          Arrays.toString(have), Arrays.toString(shape));
      return external;
    }
    ModelVariable<T> existing = variables.get(name);
    if (existing != null) {
      checkArgument(Arrays.equals(existing.shape(), shape),
          "variable %s exists with shape %s; requested %s", name, Arrays.toString(existing.shape()),
          Arrays.toString(shape));
      return existing.value();
    }
    for (long d : shape) {
      checkArgument(d >= 1, "variable %s: dimension %s in shape %s", name, d, Arrays.toString(shape));
    }
    int slash = name.lastIndexOf('/');
    Ops vt = scope(slash < 0 ? "" : name.substring(0, slash));
    String leaf = opName(name.substring(slash + 1));
    if (experts && expertShards != null) {
      PartedVariable<T> parts = PartedVariable.create(vt, expertShards, name, dtype, shape, suffix -> leaf + "_" + suffix,
          initialValue(vt, name, shape, initOrZero(init)));
      ModelVariable<T> v = ModelVariable.parted(name, parts, shape.clone());
      variables.put(name, v);
      return v.value();
    }
    Shape s = Shape.of(shape);
    VarHandleOp handle = vt.withName(leaf + "_handle").varHandleOp(dtype, s, VarHandleOp.sharedName(name));
    Operand<T> value = vt.withName(leaf + "_read").readVariableOp(handle, dtype);
    AssignVariableOp initOp = vt.withName(leaf + "_init").assignVariableOp(handle,
        initialValue(vt, name, shape, initOrZero(init)));
    Placeholder<T> load = vt.withName(leaf + "_load_value").placeholder(dtype, Placeholder.shape(s));
    AssignVariableOp loadOp = vt.withName(leaf + "_load").assignVariableOp(handle, load);
    ModelVariable<T> v = new ModelVariable<>(name, shape.clone(), handle, value, initOp, load, loadOp);
    variables.put(name, v);
    return value;
  }

  /**
   * The op scope {@code vars/<path>}, made once per path: TF Java's {@code withSubScope} scans every
   * op of the graph, so a scope per variable (and per name part) made building big graphs slow.
   */
  private Ops scope(String path) {
    Ops cached = scopes.get(path);
    if (cached != null) {
      return cached;
    }
    int slash = path.lastIndexOf('/');
    Ops parent = path.isEmpty() ? tf : scope(slash < 0 ? "" : path.substring(0, slash));
    Ops made = parent.withSubScope(path.isEmpty() ? "vars" : opName(path.substring(slash + 1)));
    scopes.put(path, made);
    return made;
  }

  private static Initializer initOrZero(Initializer init) {
    return init == null ? Initializer.zeros() : init;
  }

  /** Op names must match TF's pattern; canonical names keep their slashes as scopes. */
  private static String opName(String name) {
    String clean = name.replaceAll("[^A-Za-z0-9_.-]", "_");
    return clean.isEmpty() || !Character.isLetterOrDigit(clean.charAt(0)) && clean.charAt(0) != '.' ? "v" + clean : clean;
  }

  private Operand<T> initialValue(Ops vt, String name, long[] shape, Initializer init) {
    Operand<TInt64> dims = vt.constant(shape);
    if (init instanceof Initializer.Zeros) {
      return Fills.zeros(vt, dims, dtype);
    }
    if (init instanceof Initializer.Ones) {
      return Fills.ones(vt, dims, dtype);
    }
    double std = Initializer.stddev(init, name, shape);
    long nameHash = com.google.common.hash.Hashing.murmur3_128()
        .hashString(name, StandardCharsets.UTF_8).asLong();
    Operand<TInt64> seeds = vt.constant(new long[] {seed, nameHash});
    Operand<T> unit = vt.random.statelessRandomNormal(dims, seeds, dtype);
    return vt.math.mul(unit, vt.dtypes.cast(vt.constant(std), dtype));
  }

  /**
   * Makes builders use {@code value} (e.g. a placeholder) for parameter {@code name} instead of a
   * variable. Used to differentiate a layer with respect to its weights as plain inputs.
   */
  public VariableStore<T> bind(String name, Operand<T> value) {
    checkArgument(!variables.containsKey(name), "%s is already a variable", name);
    bound.put(name, checkNotNull(value, "value for %s", name));
    return this;
  }

  /** Variables in creation order. */
  public ImmutableList<ModelVariable<T>> variables() {
    return ImmutableList.copyOf(variables.values());
  }

  public boolean contains(String name) {
    return variables.containsKey(name);
  }

  public ModelVariable<T> variable(String name) {
    ModelVariable<T> v = variables.get(name);
    checkArgument(v != null, "no variable named %s in this graph", name);
    return v;
  }

  /** Total parameter count. */
  public long parameterCount() {
    return variables.values().stream().mapToLong(ModelVariable::numElements).sum();
  }

  /** Runs every variable's initializer (fresh weights from the seed). */
  public void initialize(Session session) {
    Session.Runner r = session.runner();
    for (ModelVariable<T> v : variables.values()) {
      r.addTarget(v.initOp());
    }
    r.run();
  }

  /** Assigns a value fed from Java to one variable; the tensor's shape must match. */
  public void load(Session session, String name, Tensor value) {
    ModelVariable<T> v = variable(name);
    checkArgument(Arrays.equals(value.shape().asArray(), v.shape()),
        "variable %s has shape %s; the value given has shape %s", name, Arrays.toString(v.shape()),
        Arrays.toString(value.shape().asArray()));
    session.runner().feed(v.loadValue(), value).addTarget(v.loadOp()).run();
  }

  /** Reads one variable's current value (the caller closes the tensor). */
  @SuppressWarnings("unchecked")
  public T fetch(Session session, String name) {
    try (var result = session.runner().fetch(variable(name).value()).run()) {
      Tensor t = result.get(0);
      // Result closes its tensors; hand out a copy the caller owns.
      return (T) copyOf(t);
    }
  }

  private static Tensor copyOf(Tensor t) {
    var raw = t.asRawTensor();
    @SuppressWarnings("unchecked")
    Class<? extends org.tensorflow.types.family.TType> type =
        (Class<? extends org.tensorflow.types.family.TType>) typeOf(t);
    return Tensor.of(type, t.shape(), raw.data().copyTo(
        org.tensorflow.ndarray.buffer.DataBuffers.ofBytes(t.numBytes()), t.numBytes()));
  }

  private static Class<?> typeOf(Tensor t) {
    return switch (t.dataType()) {
      case DT_FLOAT -> org.tensorflow.types.TFloat32.class;
      case DT_DOUBLE -> org.tensorflow.types.TFloat64.class;
      case DT_BFLOAT16 -> org.tensorflow.types.TBfloat16.class;
      case DT_HALF -> org.tensorflow.types.TFloat16.class;
      case DT_INT32 -> org.tensorflow.types.TInt32.class;
      case DT_INT64 -> org.tensorflow.types.TInt64.class;
      default -> throw new IllegalArgumentException("unsupported tensor type " + t.dataType());
    };
  }

  /** The reads of all variables, in creation order: what gradients are taken against. */
  public List<Operand<T>> values() {
    List<Operand<T>> out = new ArrayList<>();
    for (ModelVariable<T> v : variables.values()) {
      out.add(v.value());
    }
    return out;
  }
}
