package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteImportGraphDefOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GraphImportGraphDef;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_ImportGraphDefOptionsAddInputMapping;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_ImportGraphDefOptionsRemapControlDependency;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_ImportGraphDefOptionsSetPrefix;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewImportGraphDefOptions;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.internal.c_api.TF_Buffer;
import org.tensorflow.internal.c_api.TF_ImportGraphDefOptions;
import org.tensorflow.internal.c_api.TF_Output;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Copies a set of nodes of one GraphDef into a graph under a name prefix, with a device set on
 * every copied node, and every edge from a node outside the set connected to an output that already
 * exists in the target graph (the C API's import input mapping). This is how a replica's forward and
 * backward get their device: TF's C gradient builder gives gradient ops no device, so they are
 * built in a template graph and spliced in with one (the replica's, or per node: an expert's ops
 * carry their shard's device from the template, see {@link ReplicatedModel}).
 */
final class GraphSplice {

  /** The attribute holding colocation constraints ({@code loc:@node}). */
  private static final String COLOCATION = "_class";

  private GraphSplice() {}

  /**
   * @param source the GraphDef holding {@code nodes} (its version and function library are kept)
   * @param nodes names of the nodes to copy
   * @param prefix name prefix of the copies (a copy of {@code a/b} is {@code prefix/a/b})
   * @param device the device of every copy
   * @param outside resolves a {@code node:index} output outside {@code nodes} to an output of
   *     {@code target} (control inputs use the resolved output's op); must not return null
   */
  static void splice(Graph target, GraphDef source, Set<String> nodes, String prefix, String device,
      Function<String, Output<?>> outside) {
    checkNotNull(device, "device");
    splice(target, source, nodes, prefix, n -> device, outside);
  }

  /**
   * {@link #splice(Graph, GraphDef, Set, String, String, Function)} with a device per node:
   * {@code device} gives each copied node's device from its source node.
   */
  static void splice(Graph target, GraphDef source, Set<String> nodes, String prefix, Function<NodeDef, String> device,
      Function<String, Output<?>> outside) {
    checkNotNull(target, "target");
    checkArgument(!nodes.isEmpty(), "nothing to splice under %s", prefix);
    GraphDef.Builder def = GraphDef.newBuilder().setVersions(source.getVersions()).setLibrary(source.getLibrary());
    Map<String, Output<?>> data = new LinkedHashMap<>();
    Set<String> control = new LinkedHashSet<>();
    for (NodeDef n : source.getNodeList()) {
      if (!nodes.contains(n.getName())) {
        continue;
      }
      // the explicit device replaces colocation constraints, which may name nodes of another splice
      def.addNode(n.toBuilder().setDevice(device.apply(n)).removeAttr(COLOCATION));
      for (String in : n.getInputList()) {
        boolean ctl = in.startsWith("^");
        String ref = ctl ? in.substring(1) : in;
        String node = ref.contains(":") ? ref.substring(0, ref.lastIndexOf(':')) : ref;
        if (nodes.contains(node)) {
          continue;
        }
        String key = ref.contains(":") ? ref : ref + ":0";
        if (ctl) {
          control.add(node);
        } else {
          data.computeIfAbsent(key, k -> resolve(outside, k, n.getName()));
        }
      }
    }
    TF_ImportGraphDefOptions opts = TF_NewImportGraphDefOptions();
    List<TF_Output> keep = new java.util.ArrayList<>();
    try (TF_Status status = TF_Status.newStatus(); TF_Buffer buffer = TF_Buffer.newBufferFromString(def.build())) {
      TF_ImportGraphDefOptionsSetPrefix(opts, prefix);
      data.forEach((key, out) -> {
        int colon = key.lastIndexOf(':');
        TF_Output dst = new TF_Output().oper(((GraphOperation) out.op()).getUnsafeNativeHandle()).index(out.index());
        keep.add(dst);
        TF_ImportGraphDefOptionsAddInputMapping(opts, key.substring(0, colon), Integer.parseInt(key.substring(colon + 1)),
            dst);
      });
      for (String node : control) {
        Output<?> out = resolve(outside, node + ":0", "a control input");
        TF_ImportGraphDefOptionsRemapControlDependency(opts, node, ((GraphOperation) out.op()).getUnsafeNativeHandle());
      }
      TF_GraphImportGraphDef(TargetSessions.nativeGraph(target), buffer, opts, status);
      status.throwExceptionIfNotOK();
    } finally {
      TF_DeleteImportGraphDefOptions(opts);
      keep.forEach(TF_Output::close);
    }
  }

  private static Output<?> resolve(Function<String, Output<?>> outside, String key, String consumer) {
    Output<?> out = outside.apply(key);
    checkArgument(out != null, "splice: %s (input of %s) has no counterpart in the target graph", key, consumer);
    return out;
  }
}
