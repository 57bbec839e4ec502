package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
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
    return matmulOps(target).stream().mapToDouble(GraphFlops::flopsOf).sum();
  }

  /** Every {@code MatMul} and {@code BatchMatMul*} the session runs for {@code target}, each once. */
  static List<GraphOperation> matmulOps(Operation target) {
    checkNotNull(target, "target");
    checkArgument(target instanceof GraphOperation, "GraphFlops needs a graph op, got %s", target);
    Set<GraphOperation> seen = new HashSet<>();
    Deque<GraphOperation> todo = new ArrayDeque<>();
    todo.add((GraphOperation) target);
    List<GraphOperation> matmuls = new ArrayList<>();
    while (!todo.isEmpty()) {
      GraphOperation op = todo.pop();
      if (!seen.add(op)) {
        continue;
      }
      if (isMatmul(op)) {
        matmuls.add(op);
      }
      for (Operand<?> in : op.inputs()) {
        todo.add((GraphOperation) in.op());
      }
      todo.addAll(op.controlInputs());
    }
    return matmuls;
  }

  static boolean isMatmul(GraphOperation op) {
    return isMatmulType(op.type());
  }

  /** {@code MatMul} or any {@code BatchMatMul*} (V2, V3). */
  static boolean isMatmulType(String type) {
    return type.equals("MatMul") || type.startsWith("BatchMatMul");
  }

  /** The attribute that transposes operand {@code a} ({@code b} when false) of a matmul op type. */
  static String transposeAttr(String type, boolean a) {
    checkArgument(isMatmulType(type), "not a matmul op type: %s", type);
    return type.equals("MatMul") ? (a ? "transpose_a" : "transpose_b") : (a ? "adj_x" : "adj_y");
  }

  /** 2 × output elements × inner dimension of a matmul op with static shapes. */
  static double flopsOf(GraphOperation op) {
    checkArgument(isMatmul(op), "%s is a %s, not a matmul", op.name(), op.type());
    Shape a = op.input(0).shape();
    Shape out = op.output(0).shape();
    checkArgument(!a.isUnknown() && !out.isUnknown() && !a.hasUnknownDimension() && !out.hasUnknownDimension(),
        "matmul %s has a dynamic shape (a %s, out %s): its FLOPs are not static", op.name(), a, out);
    boolean transposeA = op.attributes().getAttrBool(transposeAttr(op.type(), true));
    long inner = a.get(a.numDimensions() - (transposeA ? 2 : 1));
    return 2.0 * out.size() * inner;
  }
}
