package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.InMemoryCheckpoint;
import dev.upcycle.ckpt.InMemoryCheckpointWriter;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.VariableStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.family.TFloating;

/**
 * Upcycles a dense model held in one TF session into an MoE model built in another, with the code
 * {@code convert} runs: the dense variables (canonical names, DESIGN.md §3) become an
 * {@link InMemoryCheckpoint}, {@link PlanBuilder} makes the plan from {@link UpcycleOptions},
 * {@link PlanCheck} checks it against the MoE model's variables, {@link PlanExecutor} writes the
 * targets into an {@link InMemoryCheckpointWriter}, and each MoE variable is assigned its target.
 * For small models (tests, the in-memory demo); the results are byte for byte those of
 * {@code convert} on a checkpoint of the same variables with the same options.
 *
 * <p>Every MoE variable is assigned, the routers included ({@code options.routerInit()}, seeded by
 * {@code options.seed()}), so the MoE model need not be initialised first. Targets stored in
 * another floating type than the graph's (the float32 router of a bfloat16 graph) are converted,
 * as training does when it restores a checkpoint.
 */
public final class SessionUpcycle {

  /** The label of the dense model's in-memory checkpoint in messages. */
  public static final String DENSE_LABEL = "dense model";

  /**
   * What an upcycle did.
   *
   * @param plan the plan that ran (its rules say what each variable came from)
   * @param report the plan's check, passed
   * @param executed tensors and bytes the executor read and wrote
   * @param tensors every target, by canonical name in plan order, as written
   */
  public record Result(UpcyclePlan plan, PlanReport report, PlanExecutor.Result executed,
      Map<String, RawTensor> tensors) {

    /** How many targets rules of {@code kind} produced (e.g. FRESH_ROUTER: the routers). */
    public int count(Rule.Kind kind) {
      return plan.counts().getOrDefault(kind, 0);
    }
  }

  private SessionUpcycle() {}

  /** The current values of every variable of {@code store}, under their canonical names. */
  public static <T extends TFloating> InMemoryCheckpoint checkpointOf(String label, Session session,
      VariableStore<T> store) {
    checkNotNull(session, "session of %s", label);
    checkNotNull(store, "variables of %s", label);
    List<RawTensor> tensors = new ArrayList<>();
    for (ModelVariable<T> v : store.variables()) {
      try (T t = store.fetch(session, v.name())) {
        tensors.add(raw(v.name(), t));
      }
    }
    return new InMemoryCheckpoint(label, tensors);
  }

  /**
   * Sets every variable of {@code moe} from the variables of {@code dense} by the plan of
   * {@code options} (experts, layouts, router init, noise, drop, granularity, seed).
   *
   * @throws PlanCheckException when the plan fails its check, e.g. when the options' layouts or
   *     expert count do not give the MoE model's variables (nothing is assigned then)
   */
  public static <T extends TFloating> Result apply(Session denseSession, VariableStore<T> dense, Session moeSession,
      VariableStore<T> moe, UpcycleOptions options) {
    checkNotNull(moeSession, "MoE session");
    checkNotNull(moe, "MoE variables");
    checkNotNull(options, "options");
    checkArgument(dense.dtype() == moe.dtype(), "the dense model holds %s, the MoE model %s",
        dense.dtype().getSimpleName(), moe.dtype().getSimpleName());
    InMemoryCheckpoint source = checkpointOf(DENSE_LABEL, denseSession, dense);
    checkArgument(!source.tensors().isEmpty(), "the dense model has no variables");
    DType graphType = source.tensors().get(0).dtype();
    UpcyclePlan plan = PlanBuilder.build(source.tensors(), options);
    List<TensorInfo> expected = moe.variables().stream()
        .map(v -> new TensorInfo(v.name(), graphType, v.shape())).toList();
    PlanReport report = PlanCheck.check(plan, expected).orThrow();
    PlanExecutor.Result executed;
    Map<String, RawTensor> targets;
    try (InMemoryCheckpointWriter writer = new InMemoryCheckpointWriter()) {
      executed = PlanExecutor.run(plan, source, writer, ProgressListener.NONE);
      writer.commit();
      targets = writer.tensors();
    } catch (IOException e) {
      throw new UncheckedIOException("upcycling the " + DENSE_LABEL + " in memory", e);
    }
    for (ModelVariable<T> v : moe.variables()) {
      RawTensor value = targets.get(v.name());
      checkArgument(value != null, "the plan produced no tensor for MoE variable %s", v.name());
      byte[] bytes = inType(value, graphType).bytes();
      try (T t = Tensor.of(moe.dtype(), Shape.of(v.shape()), DataBuffers.of(bytes, true, false))) {
        moe.load(moeSession, v.name(), t);
      }
    }
    return new Result(plan, report, executed, targets);
  }

  private static RawTensor raw(String name, Tensor t) {
    DType dtype = DType.fromTfEnum(t.dataType().getNumber());
    checkArgument(dtype != null && dtype.isFloating(), "variable %s: unsupported type %s", name, t.dataType());
    byte[] bytes = new byte[Math.toIntExact(t.numBytes())];
    t.asRawTensor().data().read(bytes);
    return new RawTensor(new TensorInfo(name, dtype, t.shape().asArray()),
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
  }

  /** {@code value} with its elements in {@code dtype} (rounded to nearest even when narrower). */
  private static RawTensor inType(RawTensor value, DType dtype) {
    DType have = value.info().dtype();
    if (have == dtype) {
      return value;
    }
    checkArgument(have.isFloating(), "tensor %s is %s; the graph holds %s", value.name(), have.numpyName(),
        dtype.numpyName());
    int n = Math.toIntExact(value.info().numElements());
    ByteBuffer out = ByteBuffer.allocate(n * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    FloatCodec.encode(FloatCodec.decode(value.data(), have, 0, n), dtype, out, 0);
    return new RawTensor(new TensorInfo(value.name(), dtype, value.info().shape()), out);
  }
}
