package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.GraphOperationBuilder;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * The matmuls of a step and nothing else: every {@code MatMul} / {@code BatchMatMul*} the session
 * runs for a target ({@link GraphFlops#matmulOps}), rebuilt with the same op type, operand shapes,
 * transposes and dtype on random resource variables, and run one after another (each waits for the
 * previous through a control dependency, so each has every core, as a matmul on the step's
 * critical path would; each is a session target, so none is pruned). Its time is what these kernels need for the step's matmul FLOPs on this
 * machine: the step's own time can only come close to it by spending little outside the matmuls,
 * so it says how much of the gap to the ceiling is the matmul shapes and how much everything else.
 */
final class MatmulReplay implements AutoCloseable {

  /** One matmul of a step: op type, operand shapes, transpose flags, dtype, and its FLOPs. */
  record Spec(String type, Shape a, Shape b, boolean transposeA, boolean transposeB, DataType dtype, double flops) {
    Spec {
      checkArgument(GraphFlops.isMatmulType(type), "not a matmul op type: %s", type);
      checkArgument(!a.hasUnknownDimension() && !b.hasUnknownDimension() && a.numDimensions() >= 2
          && b.numDimensions() >= 2, "matmul operand shapes must be static with rank >= 2, got %s and %s", a, b);
      checkArgument(flops > 0, "matmul FLOPs must be > 0, got %s", flops);
    }

    static Spec of(GraphOperation op) {
      return new Spec(op.type(), op.input(0).shape(), op.input(1).shape(),
          op.attributes().getAttrBool(GraphFlops.transposeAttr(op.type(), true)),
          op.attributes().getAttrBool(GraphFlops.transposeAttr(op.type(), false)),
          op.input(0).dataType(), GraphFlops.flopsOf(op));
    }
  }

  private final List<Spec> specs;
  private final Graph graph;
  private final Session session;
  private final List<Operation> matmuls;

  /** The matmuls the session runs for {@code target}. */
  static List<Spec> specsOf(Operation target) {
    return GraphFlops.matmulOps(target).stream().map(Spec::of).toList();
  }

  MatmulReplay(List<Spec> specs, ConfigProto config) {
    checkArgument(!specs.isEmpty(), "a matmul replay needs at least one matmul");
    checkNotNull(config, "config");
    this.specs = List.copyOf(specs);
    this.graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      Map<String, Operand<?>> inputs = new LinkedHashMap<>();
      List<Operation> init = new ArrayList<>();
      List<Operation> built = new ArrayList<>();
      Operation previous = null;
      for (int i = 0; i < this.specs.size(); i++) {
        Spec s = this.specs.get(i);
        Operand<?> a = input(tf, inputs, init, s.a(), s.dtype());
        Operand<?> b = input(tf, inputs, init, s.b(), s.dtype());
        GraphOperationBuilder op = graph.opBuilder(s.type(), "matmul_" + i, tf.scope()).addInput(a.asOutput())
            .addInput(b.asOutput())
            .setAttr(GraphFlops.transposeAttr(s.type(), true), s.transposeA())
            .setAttr(GraphFlops.transposeAttr(s.type(), false), s.transposeB());
        if (s.type().equals("BatchMatMulV3")) {
          op.setAttr("Ta", s.dtype()).setAttr("Tb", s.dtype()).setAttr("Tout", s.dtype());
        } else {
          op.setAttr("T", s.dtype());
        }
        if (previous != null) {
          op.addControlInput(previous);
        }
        previous = op.build();
        built.add(previous);
      }
      this.matmuls = List.copyOf(built);
      this.session = BenchSessions.openInitialized(graph, config, s -> {
        Session.Runner r = s.runner();
        init.forEach(r::addTarget);
        r.run().close();
      });
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /** A random variable of {@code shape} and {@code dtype}, one per distinct pair, read once per step. */
  private static Operand<?> input(Ops tf, Map<String, Operand<?>> inputs, List<Operation> init, Shape shape,
      DataType dtype) {
    String key = dtype + shape.toString();
    Operand<?> existing = inputs.get(key);
    if (existing != null) {
      return existing;
    }
    Class<? extends TFloating> type = floating(dtype);
    String name = "input_" + inputs.size();
    VarHandleOp handle = tf.withName(name).varHandleOp(type, shape, VarHandleOp.sharedName(name));
    Operand<TFloat32> random = tf.random.randomStandardNormal(tf.constant(shape.asArray()), TFloat32.class);
    init.add(tf.assignVariableOp(handle, tf.dtypes.cast(random, type)).op());
    Operand<?> read = tf.readVariableOp(handle, type);
    inputs.put(key, read);
    return read;
  }

  private static Class<? extends TFloating> floating(DataType dtype) {
    return switch (dtype) {
      case DT_FLOAT -> TFloat32.class;
      case DT_BFLOAT16 -> TBfloat16.class;
      case DT_HALF -> TFloat16.class;
      case DT_DOUBLE -> TFloat64.class;
      default -> throw new IllegalArgumentException("a matmul replay takes floating dtypes, got " + dtype);
    };
  }

  /** Runs every matmul once, in order. */
  void run() {
    try (Result ignored = runner().run()) {
      // the matmuls' outputs are not fetched: only their time counts
    }
  }

  /**
   * A runner of one replay step. Every matmul is a target: grappler turns a node whose outputs
   * feed only control edges into a NoOp unless it is a target.
   */
  Session.Runner runner() {
    Session.Runner r = session.runner();
    matmuls.forEach(r::addTarget);
    return r;
  }

  List<Spec> specs() {
    return specs;
  }

  /** Sum of the replayed matmuls' FLOPs. */
  double flops() {
    return specs.stream().mapToDouble(Spec::flops).sum();
  }

  @Override
  public void close() {
    try {
      session.close();
    } finally {
      graph.close();
    }
  }
}
