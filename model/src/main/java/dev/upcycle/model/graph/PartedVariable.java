package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.family.TType;

/**
 * A canonical {@code [E, ...]} variable stored in parts, one resource variable per expert shard on
 * the shard's device, part {@code s} holding the rows {@link ExpertShards#experts} of the canonical
 * tensor. Outside the graph it is one tensor: {@link #value} reads the parts and assembles the
 * canonical tensor (on the device of the ops given to {@link #create}); {@link #assign} writes a
 * canonical tensor, each part getting its rows; initialisation and loading go through it.
 */
public final class PartedVariable<T extends TType> {

  private final ExpertShards shards;
  private final long[] shape;
  private final ImmutableList<Operand<? extends TType>> handles;
  private final ImmutableList<Operand<T>> reads;
  private final Operand<T> value;
  private final Op initOp;
  private final Placeholder<T> loadValue;
  private final Op loadOp;

  private PartedVariable(ExpertShards shards, long[] shape, List<Operand<? extends TType>> handles,
      List<Operand<T>> reads, Operand<T> value, Op initOp, Placeholder<T> loadValue, Op loadOp) {
    this.shards = shards;
    this.shape = shape;
    this.handles = ImmutableList.copyOf(handles);
    this.reads = ImmutableList.copyOf(reads);
    this.value = value;
    this.initOp = initOp;
    this.loadValue = loadValue;
    this.loadOp = loadOp;
  }

  /**
   * Creates the parts of the canonical variable {@code name} [E, ...].
   *
   * @param tf ops on the device where the canonical value is assembled and initialised
   * @param opName the full op name of a suffix ({@code part0_handle}, {@code init}, {@code load}, …)
   * @param initial the canonical initial value [E, ...]
   */
  public static <T extends TType> PartedVariable<T> create(Ops tf, ExpertShards shards, String name, Class<T> type,
      long[] shape, UnaryOperator<String> opName, Operand<T> initial) {
    checkNotNull(shards, "shards");
    checkArgument(shape.length >= 1, "parted variable %s: needs an expert axis, shape is a scalar", name);
    long experts = shape[0];
    shards.checkDivides(experts);
    long[] partShape = shape.clone();
    partShape[0] = experts / shards.count();
    List<Operand<? extends TType>> handles = new ArrayList<>();
    List<Operand<T>> reads = new ArrayList<>();
    for (int s = 0; s < shards.count(); s++) {
      Ops on = tf.withDevice(shards.device(s));
      VarHandleOp h = on.withName(opName.apply("part" + s + "_handle")).varHandleOp(type, Shape.of(partShape),
          VarHandleOp.sharedName(name + "@expert_shard_" + s));
      handles.add(h);
      reads.add(on.withName(opName.apply("part" + s + "_read")).readVariableOp(h, type));
    }
    Operand<T> value = shards.assemble(tf, reads, experts);
    Op init = assign(tf, shards, handles, initial, experts, opName.apply("init"));
    Placeholder<T> load = tf.withName(opName.apply("load_value")).placeholder(type, Placeholder.shape(Shape.of(shape)));
    Op loadOp = assign(tf, shards, handles, load, experts, opName.apply("load"));
    return new PartedVariable<>(shards, shape.clone(), handles, reads, value, init, load, loadOp);
  }

  private static <T extends TType> Op assign(Ops tf, ExpertShards shards, List<Operand<? extends TType>> handles,
      Operand<T> whole, long experts, String name) {
    List<Op> parts = new ArrayList<>();
    for (int s = 0; s < shards.count(); s++) {
      Operand<T> rows = shards.rows(tf, whole, s, experts);
      parts.add(tf.withDevice(shards.device(s)).assignVariableOp(handles.get(s), rows));
    }
    return (name == null ? tf : tf.withName(name)).withControlDependencies(parts).noOp();
  }

  /** Writes the canonical tensor {@code whole} [E, ...]: each part its rows. */
  public Op assign(Ops tf, Operand<T> whole) {
    return assign(tf, shards, handles, whole, shape[0], null);
  }

  public ExpertShards shards() {
    return shards;
  }

  /** The resource handle of each part, shard order. */
  public ImmutableList<Operand<? extends TType>> handles() {
    return handles;
  }

  /** The read of each part [E/N, ...], shard order. */
  public ImmutableList<Operand<T>> reads() {
    return reads;
  }

  /** The canonical value [E, ...] assembled from the parts. */
  public Operand<T> value() {
    return value;
  }

  public Op initOp() {
    return initOp;
  }

  public Placeholder<T> loadValue() {
    return loadValue;
  }

  public Op loadOp() {
    return loadOp;
  }
}
