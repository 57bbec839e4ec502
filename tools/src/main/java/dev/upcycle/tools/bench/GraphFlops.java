package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.ndarray.Shape;

/**
 * Matmul FLOPs (2 per multiply-add) of the ops a session runs for a target: the target's inputs
 * and control inputs, transitively (what the session keeps after pruning), summing every
 * {@code MatMul} and {@code BatchMatMul*} from its static shapes. Checks {@code FlopCount}
 * against the graph actually built, backward included.
 */
final class GraphFlops {

  private GraphFlops() {}

  static double matmul(Operation target) {
    checkNotNull(target, "target");
    checkArgument(target instanceof GraphOperation, "GraphFlops needs a graph op, got %s", target);
    Set<GraphOperation> seen = new HashSet<>();
    Deque<GraphOperation> todo = new ArrayDeque<>();
    todo.add((GraphOperation) target);
    double flops = 0;
    while (!todo.isEmpty()) {
      GraphOperation op = todo.pop();
      if (!seen.add(op)) {
        continue;
      }
      flops += flopsOf(op);
      for (Operand<?> in : op.inputs()) {
        todo.add((GraphOperation) in.op());
      }
      todo.addAll(op.controlInputs());
    }
    return flops;
  }

  private static double flopsOf(GraphOperation op) {
    String type = op.type();
    boolean plain = type.equals("MatMul");
    if (!plain && !type.startsWith("BatchMatMul")) {
      return 0;
    }
    Shape a = op.input(0).shape();
    Shape out = op.output(0).shape();
    checkArgument(!a.isUnknown() && !out.isUnknown() && !a.hasUnknownDimension() && !out.hasUnknownDimension(),
        "matmul %s has a dynamic shape (a %s, out %s): its FLOPs are not static", op.name(), a, out);
    boolean transposeA = plain ? op.attributes().getAttrBool("transpose_a") : op.attributes().getAttrBool("adj_x");
    long inner = a.get(a.numDimensions() - (transposeA ? 2 : 1));
    return 2.0 * out.size() * inner;
  }
}
