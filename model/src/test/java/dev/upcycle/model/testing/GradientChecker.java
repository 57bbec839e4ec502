package dev.upcycle.model.testing;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * Finite-difference gradient checker for graph-mode TF Java code.
 *
 * <p>One graph and one session: the function is built once on placeholders, its analytic gradient
 * is added with {@code Graph.addGradients}, and the numeric gradient comes from central differences
 * {@code (f(x + h e_i) - f(x - h e_i)) / (2h)} by re-running the session with perturbed feeds. Each
 * checked element must satisfy {@code |analytic - numeric| <= atol + rtol * |numeric|}.
 *
 * <pre>{@code
 * GradientChecker.float64((tf, in) -> tf.sum(tf.math.square(in.get(0)), tf.constant(0)))
 *     .input("x", new double[] {1, 2, 3})
 *     .check();
 * }</pre>
 *
 * <p>A non-scalar output {@code y} is reduced to {@code sum(y * w)} with fixed seeded weights
 * {@code w} in [0.5, 1.5) (so every output element is weighted differently); a non-float64 output is
 * cast to float64 first. Integer or other non-differentiated inputs belong in the function as
 * constants. Defaults: float64 step 1e-6, atol 1e-6, rtol 1e-5; float32 step 1e-2, atol 5e-3, rtol
 * 2e-2 (in float32 the actual perturbation {@code float(x+h) - float(x-h)} is used as the
 * denominator). Register missing gradients before {@link #check()}.
 *
 * @param <T> the placeholder dtype (TFloat64 or TFloat32)
 */
public final class GradientChecker<T extends TFloating> {

  /** Builds the function under test: a floating output from the input placeholders, in order. */
  @FunctionalInterface
  public interface Function<T extends TType> {
    Operand<?> build(Ops tf, List<Operand<T>> inputs);
  }

  /** Analytic and numeric gradients per input (numeric is NaN where an element was not checked). */
  public record Result(
      Map<String, double[]> analytic, Map<String, double[]> numeric, double worstAbsError) {

    /** The analytic gradient of input {@code name}, row-major. */
    public double[] analytic(String name) {
      return checkNotNull(analytic.get(name), "no input named %s", name);
    }

    /** The numeric gradient of input {@code name}, NaN where not checked. */
    public double[] numeric(String name) {
      return checkNotNull(numeric.get(name), "no input named %s", name);
    }
  }

  private record Input(String name, double[] values, long[] shape) {}

  private final Class<T> dtype;
  private final Function<T> function;
  private final List<Input> inputs = new ArrayList<>();
  private double step;
  private double atol;
  private double rtol;
  private int maxElementsPerInput = Integer.MAX_VALUE;
  private long seed = 1234L;

  private GradientChecker(Class<T> dtype, Function<T> function) {
    this.dtype = dtype;
    this.function = checkNotNull(function, "function");
    boolean f64 = dtype == TFloat64.class;
    this.step = f64 ? 1e-6 : 1e-2;
    this.atol = f64 ? 1e-6 : 5e-3;
    this.rtol = f64 ? 1e-5 : 2e-2;
  }

  /** A checker whose inputs are float64 placeholders (preferred where the ops allow). */
  public static GradientChecker<TFloat64> float64(Function<TFloat64> function) {
    return new GradientChecker<>(TFloat64.class, function);
  }

  /** A checker whose inputs are float32 placeholders, with relaxed step and tolerances. */
  public static GradientChecker<TFloat32> float32(Function<TFloat32> function) {
    return new GradientChecker<>(TFloat32.class, function);
  }

  /**
   * Adds an input placeholder {@code name} fed with {@code values} (row-major); an omitted shape
   * means a vector of {@code values.length}.
   */
  public GradientChecker<T> input(String name, double[] values, long... shape) {
    checkNotNull(name, "name");
    checkArgument(
        inputs.stream().noneMatch(i -> i.name().equals(name)), "duplicate input name %s", name);
    long[] s = shape.length == 0 ? new long[] {values.length} : shape.clone();
    checkArgument(
        Arrays.stream(s).reduce(1, (a, b) -> a * b) == values.length,
        "input %s: shape %s does not hold %s values",
        name,
        Arrays.toString(s),
        values.length);
    inputs.add(new Input(name, values.clone(), s));
    return this;
  }

  /** Adds a rank-0 input placeholder. */
  public GradientChecker<T> scalarInput(String name, double value) {
    checkNotNull(name, "name");
    inputs.add(new Input(name, new double[] {value}, new long[0]));
    return this;
  }

  /** The central-difference step h (> 0). */
  public GradientChecker<T> step(double h) {
    checkArgument(h > 0 && Double.isFinite(h), "step %s must be positive", h);
    this.step = h;
    return this;
  }

  /** The tolerance {@code atol + rtol * |numeric|}. */
  public GradientChecker<T> tolerance(double atol, double rtol) {
    checkArgument(atol >= 0 && rtol >= 0, "tolerances must be >= 0: atol %s rtol %s", atol, rtol);
    this.atol = atol;
    this.rtol = rtol;
    return this;
  }

  /** Checks at most {@code n} elements per input, a seeded random subset for larger inputs. */
  public GradientChecker<T> maxElementsPerInput(int n) {
    checkArgument(n > 0, "maxElementsPerInput %s must be positive", n);
    this.maxElementsPerInput = n;
    return this;
  }

  /** The seed for the element subset and the output projection weights. */
  public GradientChecker<T> seed(long seed) {
    this.seed = seed;
    return this;
  }

  /**
   * Builds the graph, computes both gradients and asserts they agree.
   *
   * @throws AssertionError naming the input, the element and both values when they disagree
   */
  public Result check() {
    checkArgument(!inputs.isEmpty(), "no inputs: call input(...) first");
    Random random = new Random(seed);
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      List<Placeholder<T>> placeholders = new ArrayList<>();
      for (int i = 0; i < inputs.size(); i++) {
        Input in = inputs.get(i);
        placeholders.add(
            tf.withName("input" + i + "_" + safeName(in.name()))
                .placeholder(dtype, Placeholder.shape(Shape.of(in.shape()))));
      }
      List<Operand<T>> operands = new ArrayList<>(placeholders);
      Operand<TFloat64> loss = scalarLoss(tf, function.build(tf, operands), random);
      Output<?>[] xs = new Output<?>[placeholders.size()];
      for (int i = 0; i < xs.length; i++) {
        xs[i] = placeholders.get(i).asOutput();
      }
      Output<?>[] grads = graph.addGradients(loss.asOutput(), xs);
      ConfigProto config =
          ConfigProto.newBuilder()
              .setIntraOpParallelismThreads(1)
              .setInterOpParallelismThreads(1)
              .build();
      try (Session session = new Session(graph, config)) {
        return compute(session, placeholders, loss, grads, random);
      }
    }
  }

  private Result compute(
      Session session,
      List<Placeholder<T>> placeholders,
      Operand<TFloat64> loss,
      Output<?>[] grads,
      Random random) {
    List<Tensor> feeds = new ArrayList<>();
    try {
      for (Input in : inputs) {
        feeds.add(Tensors.ofDoubles(dtype, in.values(), in.shape()));
      }
      Map<String, double[]> analytic = new LinkedHashMap<>();
      Session.Runner runner = feedAll(session.runner(), placeholders, feeds);
      for (Output<?> g : grads) {
        runner.fetch(g);
      }
      try (org.tensorflow.Result r = runner.run()) {
        for (int i = 0; i < inputs.size(); i++) {
          analytic.put(inputs.get(i).name(), Tensors.toDoubles(r.get(i)));
        }
      }
      Map<String, double[]> numeric = new LinkedHashMap<>();
      double worst = 0;
      for (int i = 0; i < inputs.size(); i++) {
        Input in = inputs.get(i);
        int[] checked = chooseElements(in.values().length, random);
        double[] num = new double[in.values().length];
        Arrays.fill(num, Double.NaN);
        for (int e : checked) {
          num[e] = centralDifference(session, placeholders, loss, feeds, i, e);
        }
        numeric.put(in.name(), num);
        double[] an = analytic.get(in.name());
        worst = Math.max(worst, compare(in.name(), in.shape(), an, num, checked, atol, rtol));
      }
      return new Result(analytic, numeric, worst);
    } finally {
      feeds.forEach(Tensor::close);
    }
  }

  private double centralDifference(
      Session session,
      List<Placeholder<T>> placeholders,
      Operand<TFloat64> loss,
      List<Tensor> feeds,
      int input,
      int element) {
    Input in = inputs.get(input);
    double x = in.values()[element];
    double plus = x + step;
    double minus = x - step;
    if (dtype == TFloat32.class) {
      plus = (float) plus;
      minus = (float) minus;
    }
    double fPlus = evaluate(session, placeholders, loss, feeds, input, element, plus);
    double fMinus = evaluate(session, placeholders, loss, feeds, input, element, minus);
    return (fPlus - fMinus) / (plus - minus);
  }

  private double evaluate(
      Session session,
      List<Placeholder<T>> placeholders,
      Operand<TFloat64> loss,
      List<Tensor> feeds,
      int input,
      int element,
      double value) {
    Input in = inputs.get(input);
    double[] perturbed = in.values().clone();
    perturbed[element] = value;
    try (Tensor t = Tensors.ofDoubles(dtype, perturbed, in.shape())) {
      List<Tensor> these = new ArrayList<>(feeds);
      these.set(input, t);
      try (org.tensorflow.Result r =
          feedAll(session.runner(), placeholders, these).fetch(loss).run()) {
        return Tensors.scalarValue(r.get(0));
      }
    }
  }

  private static <T extends TType> Session.Runner feedAll(
      Session.Runner runner, List<Placeholder<T>> placeholders, List<Tensor> feeds) {
    for (int i = 0; i < placeholders.size(); i++) {
      runner.feed(placeholders.get(i), feeds.get(i));
    }
    return runner;
  }

  /** sum(cast(y, f64) * w) for non-scalar y with fixed weights; y itself (as f64) if scalar. */
  private static Operand<TFloat64> scalarLoss(Ops tf, Operand<?> output, Random random) {
    checkNotNull(output, "the function returned null");
    checkArgument(
        output.type() == TFloat64.class || output.type() == TFloat32.class,
        "the function's output must be float32 or float64, got %s",
        output.asOutput().dataType());
    Operand<TFloat64> y =
        output.type() == TFloat64.class
            ? output.asOutput().expect(TFloat64.class)
            : tf.dtypes.cast(output, TFloat64.class);
    Shape shape = output.shape();
    if (shape.isScalar()) {
      return y;
    }
    checkArgument(
        !shape.hasUnknownDimension(),
        "a non-scalar output needs a fully known shape to be projected, got %s",
        shape);
    double[] w = new double[(int) shape.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = 0.5 + random.nextDouble();
    }
    Operand<TFloat64> weights =
        tf.reshape(tf.constant(w), tf.constant(shape.asArray()));
    Operand<TFloat64> weighted = tf.math.mul(y, weights);
    return tf.sum(tf.reshape(weighted, tf.constant(new long[] {-1})), tf.constant(0));
  }

  private int[] chooseElements(int size, Random random) {
    int[] all = new int[size];
    for (int i = 0; i < size; i++) {
      all[i] = i;
    }
    if (size <= maxElementsPerInput) {
      return all;
    }
    for (int i = 0; i < maxElementsPerInput; i++) {
      int j = i + random.nextInt(size - i);
      int tmp = all[i];
      all[i] = all[j];
      all[j] = tmp;
    }
    int[] chosen = Arrays.copyOf(all, maxElementsPerInput);
    Arrays.sort(chosen);
    return chosen;
  }

  /**
   * Compares analytic to numeric at the {@code checked} elements; throws naming the worst one.
   *
   * @return the largest |analytic - numeric| over the checked elements
   */
  static double compare(
      String name,
      long[] shape,
      double[] analytic,
      double[] numeric,
      int[] checked,
      double atol,
      double rtol) {
    double worstExcess = 0;
    int worst = -1;
    int failures = 0;
    double maxAbs = 0;
    for (int e : checked) {
      double excess = TensorAssert.excess(numeric[e], analytic[e], atol, rtol);
      if (Double.isFinite(analytic[e] - numeric[e])) {
        maxAbs = Math.max(maxAbs, Math.abs(analytic[e] - numeric[e]));
      }
      if (excess > 0) {
        failures++;
        if (worst < 0 || excess > worstExcess) {
          worst = e;
          worstExcess = excess;
        }
      }
    }
    if (failures > 0) {
      throw new AssertionError(
          String.format(
              "gradient check failed for input '%s' %s: analytic %.9g, numeric %.9g, |diff| %.3g >"
                  + " atol %.3g + rtol %.3g * |numeric|; %d of %d checked elements failed",
              name,
              TensorAssert.describeIndex(worst, shape),
              analytic[worst],
              numeric[worst],
              Math.abs(analytic[worst] - numeric[worst]),
              atol,
              rtol,
              failures,
              checked.length));
    }
    return maxAbs;
  }

  private static String safeName(String name) {
    return name.replaceAll("[^A-Za-z0-9_.\\-]", "_");
  }
}
