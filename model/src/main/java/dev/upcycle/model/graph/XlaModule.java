package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.OperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.Signature;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;

/**
 * Turns a part of a graph into ONE XLA module: the ops that compute {@code fetches} and run
 * {@code targets} from {@code feeds} become a function ({@link ConcreteFunction} built from the
 * graph), called through a {@code StatefulPartitionedCall} node carrying {@code _XlaMustCompile=true}
 * (on the call node: on the function definition alone grappler inlines it and nothing compiles;
 * TFJAVA-NOTES.md). The resource variables the body reads or assigns are passed in as
 * {@code DT_RESOURCE} arguments (after the feeds), so the module updates them in place; the feeds
 * (placeholders: input feeding) stay outside the module on purpose. An op XLA cannot compile inside
 * the body makes the first run fail with TF's list of the unsupported ops rather than silently
 * splitting the step.
 *
 * <p>The original ops stay in the graph (unused unless fetched); callers fetch {@link #fetch} and run
 * {@link #target} instead.
 */
public final class XlaModule {

  /** The call node's type: stateful, so grappler neither prunes nor deduplicates it. */
  static final String CALL_OP = "StatefulPartitionedCall";
  /** The attribute that makes TF compile the called function as one XLA module. */
  public static final String MUST_COMPILE = "_XlaMustCompile";
  static final String VAR_HANDLE = "VarHandleOp";

  private final Operation call;
  private final Map<Operand<?>, Output<?>> outputs;
  private final Op target;
  private final int resourceCount;

  private XlaModule(Operation call, Map<Operand<?>, Output<?>> outputs, Op target, int resourceCount) {
    this.call = call;
    this.outputs = outputs;
    this.target = target;
    this.resourceCount = resourceCount;
  }

  /**
   * Wraps the subgraph that computes {@code fetches} and runs {@code targets} from {@code feeds}.
   *
   * @param tf ops of {@code graph}, carrying the name scope and device of the call node
   * @param name function and call-node name (letters, digits, underscores)
   * @param feeds placeholders the caller feeds each run (every placeholder the body needs)
   * @param fetches values the caller fetches (distinct or not)
   * @param targets ops the caller runs (e.g. the optimizer's train op)
   */
  public static XlaModule wrap(Graph graph, Ops tf, String name, List<? extends Operand<?>> feeds,
      List<? extends Operand<?>> fetches, List<? extends Op> targets) {
    checkNotNull(graph, "graph");
    checkNotNull(tf, "tf");
    checkArgument(name != null && name.matches("[A-Za-z][A-Za-z0-9_]*"), "module name must be an identifier, got '%s'",
        name);
    checkNotNull(feeds, "feeds");
    checkNotNull(fetches, "fetches");
    checkNotNull(targets, "targets");
    checkArgument(!fetches.isEmpty() || !targets.isEmpty(), "module %s has nothing to fetch or run", name);
    // A module's outputs must be values: targets become one bool that depends on all of them.
    List<Operand<?>> values = new ArrayList<>();
    Map<Operand<?>, Integer> index = new IdentityHashMap<>();
    for (Operand<?> f : fetches) {
      checkNotNull(f, "fetch of module %s", name);
      if (!index.containsKey(f) && !containsOutput(values, f)) {
        index.put(f, values.size());
        values.add(f);
      }
    }
    Ops inner = tf.withSubScope(name + "_body");
    Operand<TBool> done = inner.withControlDependencies(new ArrayList<>(targets)).withName("done").constant(true);
    values.add(done);
    Set<Operand<?>> feedSet = new HashSet<>(feeds);
    Set<GraphOperation> body = graph.completeSubgraph(feedSet, new HashSet<>(values));
    List<Output<?>> resources = new ArrayList<>();
    for (GraphOperation op : body) {
      if (op.type().equals(VAR_HANDLE)) {
        resources.add(op.output(0));
      }
    }
    Signature.Builder sig = Signature.builder().key(name).methodName(name);
    for (int i = 0; i < feeds.size(); i++) {
      sig.input("in_" + i, feeds.get(i));
    }
    for (int i = 0; i < resources.size(); i++) {
      sig.input("var_" + i, resources.get(i));
    }
    for (int i = 0; i < values.size(); i++) {
      sig.output("out_" + i, values.get(i));
    }
    ConcreteFunction function = ConcreteFunction.create(sig.build(), graph);
    List<Operand<?>> args = new ArrayList<>(feeds);
    args.addAll(resources);
    OperationBuilder b = tf.scope().withName(name).opBuilder(CALL_OP, name);
    b.addInputList(args.stream().map(Operand::asOutput).toArray(Output[]::new));
    b.setAttr("Tin", args.stream().map(a -> a.asOutput().dataType()).toArray(DataType[]::new));
    b.setAttr("Tout", values.stream().map(v -> v.asOutput().dataType()).toArray(DataType[]::new));
    b.setAttr("f", function);
    b.setAttr(MUST_COMPILE, true);
    Operation call = b.build();
    Map<Operand<?>, Output<?>> outs = new IdentityHashMap<>();
    for (Operand<?> f : fetches) {
      Integer i = index.get(f);
      outs.put(f, call.output(i != null ? i : indexOfOutput(values, f)));
    }
    Op target = tf.withControlDependencyOps(List.of(call)).withName(name + "_ran").noOp();
    return new XlaModule(call, outs, target, resources.size());
  }

  private static boolean containsOutput(List<Operand<?>> values, Operand<?> f) {
    return indexOfOutput(values, f) >= 0;
  }

  private static int indexOfOutput(List<Operand<?>> values, Operand<?> f) {
    for (int i = 0; i < values.size(); i++) {
      if (values.get(i).asOutput().equals(f.asOutput())) {
        return i;
      }
    }
    return -1;
  }

  /** The module's output that stands for {@code fetch} (one of the fetches given to {@link #wrap}). */
  @SuppressWarnings("unchecked")
  public <T extends org.tensorflow.types.family.TType> Output<T> fetch(Operand<T> fetch) {
    Output<?> o = outputs.get(fetch);
    checkArgument(o != null, "%s is not a fetch of module %s", fetch, call.name());
    return (Output<T>) o;
  }

  /** {@link #fetch} of each, in order. */
  public List<Output<?>> fetchAll(List<? extends Operand<?>> fetches) {
    List<Output<?>> out = new ArrayList<>();
    for (Operand<?> f : fetches) {
      Output<?> o = outputs.get(f);
      checkArgument(o != null, "%s is not a fetch of module %s", f, call.name());
      out.add(o);
    }
    return out;
  }

  /** Runs the whole module: its targets and every output. */
  public Op target() {
    return target;
  }

  /** The call node (name {@code <scope>/<name>}), e.g. for device placement checks. */
  public Operation callNode() {
    return call;
  }

  /** How many resource variables the module reads or updates. */
  public int resourceCount() {
    return resourceCount;
  }
}
