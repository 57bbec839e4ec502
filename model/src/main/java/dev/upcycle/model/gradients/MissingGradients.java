package dev.upcycle.model.gradients;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TFJ_GradFuncAdapter;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.ndarray.index.Indices;
import org.tensorflow.op.Ops;
import org.tensorflow.op.RawCustomGradient;
import org.tensorflow.op.core.Sum;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TNumber;
import org.tensorflow.types.family.TType;

/**
 * Registers Java gradients for the ops that have no C++ gradient in the TF 2.18 runtime of TF Java
 * 1.1.0, so that {@code Graph.addGradients} / {@code tf.gradients} work through them.
 *
 * <p>Checked on this runtime ({@code MissingGradientsTest}: TF accepts a registration only for an
 * op type without a gradient): these op types have <b>no</b> C++ gradient and get one here, each
 * checked against finite differences in {@code MissingGradientsNumericTest}:
 *
 * <ul>
 *   <li>{@code TopKV2}: the upstream gradient of {@code values} is scattered into the input
 *       positions named by {@code indices}, per row of the last axis; {@code k} gets zeros. The
 *       gradient of the {@code indices} output is ignored (it is integer-valued).
 *   <li>{@code SparseSoftmaxCrossEntropyWithLogits}: {@code d features = loss_grad[..., None] *
 *       (softmax - onehot(labels))} (the op's own {@code backprop} output), plus the softmax
 *       Jacobian-vector product of the {@code backprop} output's upstream gradient when that is
 *       not a {@code ZerosLike}; {@code labels} get zeros. Works for float32 and float64.
 *   <li>{@code TensorScatterUpdate}: {@code d tensor = upstream} with the updated positions set to
 *       zero; {@code d updates = GatherNd(upstream, indices)}; {@code indices} get zeros. Assumes
 *       unique indices (with duplicates the forward result itself is unspecified).
 *   <li>{@code TensorScatterAdd} / {@code TensorScatterSub}: {@code d tensor = upstream}; {@code d
 *       updates = ±GatherNd(upstream, indices)}; {@code indices} get zeros.
 *   <li>{@code ResourceGather} ({@code batch_dims = 0} only): the gradient for the resource handle
 *       is a <em>dense</em> tensor of the variable's shape ({@code UnsortedSegmentSum} of the
 *       upstream rows by index). The C++ {@code ReadVariableOp} gradient is the identity onto the
 *       handle, so {@code Graph.addGradients(loss, varHandle.output())} returns the dense gradient
 *       of the variable for both {@code ReadVariableOp} and {@code ResourceGather} paths (summed
 *       when both exist). The differentiated "x" is the {@code VarHandleOp} output (dtype
 *       resource); the gradient has the variable's dtype and shape. A non-zero {@code batch_dims}
 *       fails graph building with an exception naming the op. Alternative: differentiate with
 *       respect to a {@code ReadVariableOp} value and gather from that (GatherV2 has a gradient).
 *   <li>Random ops, which have no parameter to differentiate: {@code StatelessRandomNormal},
 *       {@code StatelessRandomNormalV2}, {@code StatelessRandomUniform}, {@code
 *       StatelessRandomUniformV2}, {@code StatelessTruncatedNormal}, {@code
 *       StatelessTruncatedNormalV2}, {@code StatelessRandomGetKeyCounter}, {@code
 *       RandomStandardNormal}, {@code RandomUniform}: zeros for every input. They matter when the
 *       random shape is {@code tf.shape(x)} of a trained tensor (e.g. multiplicative router
 *       jitter), which puts the random op on the path to the loss.
 *   <li>Piecewise-constant / integer ops (TF Python marks them non-differentiable): {@code ArgMax},
 *       {@code ArgMin}, {@code Range}, {@code FloorDiv}, {@code Round}, {@code Where}, {@code
 *       IsFinite}, {@code All}, {@code Any}: zeros for every input. A path through them
 *       contributes nothing instead of failing {@code addGradients}. (Integer outputs feeding a
 *       {@code Cast} or gather indices never reach these: the C++ builder stops there. They
 *       matter for float paths, e.g. {@code x * round(x)} or a float {@code Range}.)
 * </ul>
 *
 * <p>Present in C++ already (not registered here, checked by the same test): Erf, Cumsum,
 * UnsortedSegmentSum, Einsum, GatherV2, GatherNd, ScatterNd, ReadVariableOp, Softmax,
 * SoftmaxCrossEntropyWithLogits, OneHot, Cast, Shape. Not covered: {@code ResourceGatherNd},
 * {@code Sort}, {@code Cumprod}, {@code Unique}.
 *
 * <p><b>At most 10 Java gradient adapters per process.</b> TF Java 1.1.0 backs each registered
 * gradient with a JavaCPP callback and serves only 10 of them; the gradient registered 11th is a
 * null function pointer and crashes the JVM (SIGSEGV in {@code CustomGradFunc}) when a graph needs
 * it (checked on this runtime). So every gradient here is served by one dispatching adapter, and
 * other code should register its own through {@link #register(String, RawCustomGradient)}.
 *
 * <p>Rules obeyed by every gradient here: no {@code Output.shape()} inside the callback (it
 * deadlocks on the graph lock held by the gradient builder; shapes come from {@code tf.shape}
 * ops); {@code tf.zerosLike} (never null) for non-differentiable inputs. An op type that already
 * has a gradient (C++ or an earlier Java registration by other code) is left alone: TF refuses
 * to override it and {@link #registerAll()} reports it in its result. An exception thrown by a
 * gradient reaches the caller of {@code Graph.addGradients} as a Java exception.
 */
public final class MissingGradients {

  /** Java gradients by op type, all served by one native adapter ({@link #ADAPTER_LOCK}). */
  private static final Map<String, RawCustomGradient> GRADIENTS = new ConcurrentHashMap<>();

  private static final Object ADAPTER_LOCK = new Object();
  /** The single native adapter (strongly held: the native side keeps only a raw pointer). */
  private static TFJ_GradFuncAdapter adapter;

  private static final Object REGISTER_ALL_LOCK = new Object();
  private static volatile Map<String, Boolean> registered;

  /** Op types given a "zeros for every input" gradient: random draws. */
  static final List<String> RANDOM_OPS =
      List.of(
          "StatelessRandomNormal",
          "StatelessRandomNormalV2",
          "StatelessRandomUniform",
          "StatelessRandomUniformV2",
          "StatelessTruncatedNormal",
          "StatelessTruncatedNormalV2",
          "StatelessRandomGetKeyCounter",
          "RandomStandardNormal",
          "RandomUniform");

  /** Op types given a "zeros for every input" gradient: piecewise constant or integer-valued. */
  static final List<String> PIECEWISE_CONSTANT_OPS =
      List.of("ArgMax", "ArgMin", "Range", "FloorDiv", "Round", "Where", "IsFinite", "All", "Any");

  private MissingGradients() {}

  /**
   * Registers every gradient listed in the class comment, once per process (thread-safe; later
   * calls return the first call's result at no cost).
   *
   * @return op type → {@code true} when this class's Java gradient was registered, {@code false}
   *     when the op type already had a gradient (C++ or registered by other code) and was left
   *     alone; in registration order, unmodifiable
   */
  public static Map<String, Boolean> registerAll() {
    Map<String, Boolean> done = registered;
    if (done != null) {
      return done;
    }
    synchronized (REGISTER_ALL_LOCK) {
      if (registered == null) {
        Map<String, Boolean> result = new LinkedHashMap<>();
        specific().forEach((type, grad) -> result.put(type, register(type, grad)));
        for (String type : RANDOM_OPS) {
          result.put(type, register(type, MissingGradients::zerosForAllInputs));
        }
        for (String type : PIECEWISE_CONSTANT_OPS) {
          result.put(type, register(type, MissingGradients::zerosForAllInputs));
        }
        registered = Collections.unmodifiableMap(result);
      }
      return registered;
    }
  }

  /**
   * Registers a Java gradient for {@code opType} through this class's single native adapter. Use
   * this instead of {@code TensorFlow.registerCustomGradient}: TF Java 1.1.0 serves at most 10
   * gradient adapters per process (JavaCPP callback slots) and the 11th crashes the JVM with a
   * SIGSEGV when the gradient is built; every gradient registered here shares one slot.
   *
   * @return {@code true} if registered; {@code false} if {@code opType} already has a gradient
   *     (C++, an earlier call, or other code), which TF does not allow to be replaced
   * @throws IllegalStateException on Windows, where TF Java 1.1.0 has no custom gradients
   */
  public static boolean register(String opType, RawCustomGradient gradient) {
    checkNotNull(opType, "opType");
    checkNotNull(gradient, "gradient for %s", opType);
    synchronized (TensorFlow.class) { // TensorFlow's own registration methods lock this too
      if (GRADIENTS.containsKey(opType) || hasGradient(opType)) {
        return false;
      }
      GRADIENTS.put(opType, gradient);
      if (!tensorflow.TFJ_RegisterCustomGradient(opType, adapter())) {
        GRADIENTS.remove(opType);
        throw new IllegalStateException(
            "TensorFlow refused the Java gradient for op type " + opType);
      }
      return true;
    }
  }

  /** True when {@code opType} has a gradient (C++ or Java) in this process now. */
  public static boolean hasGradient(String opType) {
    TensorFlow.version(); // loads the native library
    return tensorflow.TFJ_HasGradient(opType);
  }

  /** The op types {@link #registerAll()} covers, in registration order. */
  public static List<String> coveredOpTypes() {
    List<String> all = new ArrayList<>(specific().keySet());
    all.addAll(RANDOM_OPS);
    all.addAll(PIECEWISE_CONSTANT_OPS);
    return Collections.unmodifiableList(all);
  }

  private static TFJ_GradFuncAdapter adapter() {
    synchronized (ADAPTER_LOCK) {
      if (adapter == null) {
        if (System.getProperty("os.name", "").toLowerCase(Locale.ENGLISH).startsWith("win")) {
          throw new IllegalStateException(
              "TF Java 1.1.0 does not support custom gradients on Windows");
        }
        adapter = RawCustomGradient.adapter(MissingGradients::dispatch);
      }
      return adapter;
    }
  }

  private static List<Operand<?>> dispatch(Ops tf, GraphOperation op, List<Output<?>> grads) {
    RawCustomGradient gradient = GRADIENTS.get(op.type());
    if (gradient == null) {
      throw new IllegalStateException("no Java gradient registered for op type " + op.type());
    }
    return gradient.call(tf, op, grads);
  }

  private static Map<String, RawCustomGradient> specific() {
    Map<String, RawCustomGradient> m = new LinkedHashMap<>();
    m.put("TopKV2", MissingGradients::topKGrad);
    m.put("SparseSoftmaxCrossEntropyWithLogits", MissingGradients::sparseSoftmaxCrossEntropyGrad);
    m.put("TensorScatterUpdate", MissingGradients::tensorScatterUpdateGrad);
    m.put("TensorScatterAdd", (tf, op, grads) -> tensorScatterAddGrad(tf, op, grads, false));
    m.put("TensorScatterSub", (tf, op, grads) -> tensorScatterAddGrad(tf, op, grads, true));
    m.put("ResourceGather", MissingGradients::resourceGatherGrad);
    return m;
  }

  // ---------------------------------------------------------------- gradients

  /** Zeros shaped like each input. */
  static List<Operand<?>> zerosForAllInputs(Ops tf, GraphOperation op, List<Output<?>> grads) {
    List<Operand<?>> out = new ArrayList<>(op.numInputs());
    for (int i = 0; i < op.numInputs(); i++) {
      out.add(tf.zerosLike(op.input(i)));
    }
    return out;
  }

  /**
   * TopKV2(input [..., n], k) → values [..., k], indices [..., k]. d input = scatter of d values
   * into the positions {@code row * n + indices} of the flattened input.
   */
  static List<Operand<?>> topKGrad(Ops tf, GraphOperation op, List<Output<?>> grads) {
    Operand<TType> input = typed(op.input(0));
    Operand<TInt64> inputShape = tf.shape(input, TInt64.class); // [rank]
    Operand<TInt64> n = tf.stridedSlice(inputShape, Indices.at(-1)); // scalar: last-axis size
    Operand<TInt64> total = tf.size(input, TInt64.class); // scalar: rows * n
    Operand<TInt64> rowStart = tf.reshape(tf.range(tf.constant(0L), total, n), column(tf)); // [rows, 1]
    Operand<TInt64> rows = tf.size(rowStart, TInt64.class);
    Operand<TInt64> indices = tf.dtypes.cast(op.output(1), TInt64.class); // [..., k]
    Operand<TInt64> perRow = tf.reshape(indices, tf.stack(List.of(rows, tf.constant(-1L)))); // [rows, k]
    Operand<TInt64> positions = tf.reshape(tf.math.add(perRow, rowStart), column(tf)); // [rows*k, 1]
    Operand<TType> flatGrad = tf.reshape(typed(grads.get(0)), tf.constant(new long[] {-1}));
    Operand<TType> dense =
        tf.scatterNd(positions, flatGrad, tf.reshape(total, tf.constant(new long[] {1}))); // [rows*n]
    return List.of(tf.reshape(dense, inputShape), tf.zerosLike(op.input(1)));
  }

  private static Operand<TInt64> column(Ops tf) {
    return tf.constant(new long[] {-1, 1});
  }

  /**
   * SparseSoftmaxCrossEntropyWithLogits(features [batch, classes], labels [batch]) → loss [batch],
   * backprop [batch, classes] = softmax - onehot.
   */
  static List<Operand<?>> sparseSoftmaxCrossEntropyGrad(
      Ops tf, GraphOperation op, List<Output<?>> grads) {
    Operand<TNumber> backprop = typed(op.output(1));
    Operand<TNumber> lossGrad = typed(grads.get(0)); // [batch]
    Operand<TNumber> featuresGrad =
        tf.math.mul(tf.expandDims(lossGrad, tf.constant(-1)), backprop); // [batch, classes]
    Output<?> backpropGrad = grads.get(1);
    if (!"ZerosLike".equals(backpropGrad.op().type())) {
      // d/dfeatures of <g, softmax(features)> = (g - sum(g * softmax)) * softmax
      Operand<TNumber> g = typed(backpropGrad);
      Operand<TNumber> softmax = tf.nn.softmax(typed(op.input(0)));
      Operand<TNumber> dot =
          tf.sum(tf.math.mul(g, softmax), tf.constant(-1), Sum.keepDims(true)); // [batch, 1]
      featuresGrad = tf.math.add(featuresGrad, tf.math.mul(tf.math.sub(g, dot), softmax));
    }
    return List.of(featuresGrad, tf.zerosLike(op.input(1)));
  }

  /** TensorScatterUpdate(tensor, indices, updates). */
  static List<Operand<?>> tensorScatterUpdateGrad(Ops tf, GraphOperation op, List<Output<?>> grads) {
    Operand<TType> g = typed(grads.get(0));
    Operand<TNumber> indices = typed(op.input(1));
    Operand<TType> updates = typed(op.input(2));
    Operand<TType> tensorGrad = tf.tensorScatterNdUpdate(g, indices, tf.zerosLike(updates));
    return List.of(tensorGrad, tf.zerosLike(indices), tf.gatherNd(g, indices));
  }

  /** TensorScatterAdd / TensorScatterSub(tensor, indices, updates). */
  static List<Operand<?>> tensorScatterAddGrad(
      Ops tf, GraphOperation op, List<Output<?>> grads, boolean negateUpdates) {
    Operand<TType> g = typed(grads.get(0));
    Operand<TNumber> indices = typed(op.input(1));
    Operand<TType> updatesGrad = tf.gatherNd(g, indices);
    if (negateUpdates) {
      updatesGrad = tf.math.neg(updatesGrad);
    }
    return List.of(tf.identity(g), tf.zerosLike(indices), updatesGrad);
  }

  /**
   * ResourceGather(resource, indices [...]) → [..., rest] where the variable is [rows, rest...].
   * The resource gets the dense gradient [rows, rest...].
   */
  static List<Operand<?>> resourceGatherGrad(Ops tf, GraphOperation op, List<Output<?>> grads) {
    long batchDims = op.attributes().getAttrInt("batch_dims");
    if (batchDims != 0) {
      throw new IllegalArgumentException(
          "gradient of ResourceGather "
              + op.name()
              + ": batch_dims "
              + batchDims
              + " is not supported (only 0)");
    }
    Operand<?> resource = op.input(0);
    Operand<TInt64> varShape = tf.variableShape(resource, TInt64.class); // [rank]
    Operand<TInt64> rest = tf.stridedSlice(varShape, Indices.sliceFrom(1)); // [rank - 1]
    Operand<TInt64> rows = tf.stridedSlice(varShape, Indices.at(0)); // scalar
    Operand<TInt64> flatIndices =
        tf.reshape(tf.dtypes.cast(op.input(1), TInt64.class), tf.constant(new long[] {-1}));
    Operand<TInt64> count = tf.size(flatIndices, TInt64.class);
    Operand<TInt64> flatShape =
        tf.concat(List.of(tf.reshape(count, tf.constant(new long[] {1})), rest), tf.constant(0));
    Operand<TType> flatGrad = tf.reshape(typed(grads.get(0)), flatShape); // [count, rest...]
    Operand<TType> dense = tf.math.unsortedSegmentSum(flatGrad, flatIndices, rows);
    return List.of(dense, tf.zerosLike(op.input(1)));
  }

  @SuppressWarnings("unchecked")
  private static <T extends TType> Operand<T> typed(Operand<?> operand) {
    return (Operand<T>) operand;
  }
}
