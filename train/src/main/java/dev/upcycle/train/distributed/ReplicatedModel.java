package dev.upcycle.train.distributed;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.Losses;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.arch.ModelInputs;
import dev.upcycle.model.arch.ModelOutputs;
import dev.upcycle.model.arch.Models;
import dev.upcycle.model.gradients.MissingGradients;
import dev.upcycle.model.graph.BuildContext;
import dev.upcycle.model.graph.ExpertShards;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.PartedVariable;
import dev.upcycle.model.graph.VariableStore;
import dev.upcycle.model.moe.MoeLayer;
import dev.upcycle.model.moe.MoeLayerStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * In-graph data parallelism: one graph whose variables (one copy, on the placement's parameter
 * device) feed N replicas, replica r computing the forward and backward of batch shard r
 * ([batch/N, ...], rows r·batch/N .. (r+1)·batch/N − 1 of the fed batch) on replica device r.
 * The replicas' gradients are summed on the parameter device, scaled so that the loss and gradient
 * are those of the whole batch: token losses (cross-entropy, z-loss) weighted by each shard's share
 * of the real target tokens, MoE losses averaged over replicas (they are means over routing groups,
 * and each replica has the same number of groups). The result is a {@link ModelGraph} over the
 * whole batch, so {@code TrainStep.over} adds clipping, the optimizer and the step counter as for one
 * process.
 *
 * <p>How each replica gets its device: TF's C gradient builder gives gradient ops no device (they
 * would all run on the parameter device), so one replica is built with its gradients in a template
 * graph, whose nodes are then spliced into the training graph once per replica with that replica's
 * device ({@link GraphSplice}): first the forward of every replica, then the backward, whose output
 * gradients are seeded with the shard's loss scale.
 *
 * <p>Routing groups stay within a shard: the same routing as one process needs
 * {@code moe.group_size} to divide the per-replica tokens (checked here). Dropout and router
 * jitter draw per replica (replica r's seed is the step seed + r·φ), so with them on the per-step
 * loss matches one process in distribution only.
 *
 * <p>Expert parallelism ({@code moe.expert_shards} N > 1, N dividing the device count D), with
 * data parallelism over all D devices as before (DeepSpeed-MoE's expert-parallel size): every
 * expert variable is stored in parts on devices 0..N−1 ({@link ExpertShards}: expert e on device
 * e mod N), its optimizer slots with it ({@code VariableStore.getExperts}, {@code StateStore.slot}).
 * The devices form D/N groups of N; replica r (group r div N) computes expert e of its tokens on
 * device (r div N)·N + e mod N ({@link #groupDevices}), so tokens travel to the device of their
 * expert within the replica's group and back for the combine. Each expert's forward ops carry
 * their shard's device from the template ({@code BuildContext.forExpert}), and each backward op
 * runs where its inputs are when they come from one shard device, elsewhere on the replica's
 * device ({@link #backwardDevices}); routing, the combine and the dense layers run on the
 * replica's device. Routing is per replica, as without shards, so the losses are the one-process
 * ones.
 */
public final class ReplicatedModel {

  /** Seed offset between replicas (2^64 / golden ratio). */
  private static final long SEED_STRIDE = 0x9E3779B97F4A7C15L;
  private static final String VARS = "vars/";

  private ReplicatedModel() {}

  /**
   * Builds the replicated training model of {@code spec} for the whole-batch {@code shape}.
   *
   * @param xla XLA auto-clustering in the session
   */
  public static <T extends TFloating> ModelGraph<T> build(ModelSpec spec, BatchShape shape, Class<T> dtype, long seed,
      double zLossFactor, double labelSmoothing, Placement placement, boolean xla) {
    return build(spec, shape, dtype, seed, zLossFactor, labelSmoothing, placement, xla, 1);
  }

  /**
   * {@link #build(ModelSpec, BatchShape, Class, long, double, double, Placement, boolean)} with
   * {@code expertShards} ({@code moe.expert_shards}): data parallelism over the placement's devices,
   * and with N > 1 (dividing their count) the experts split over groups of N of them.
   */
  public static <T extends TFloating> ModelGraph<T> build(ModelSpec spec, BatchShape shape, Class<T> dtype, long seed,
      double zLossFactor, double labelSmoothing, Placement placement, boolean xla, int expertShards) {
    checkNotNull(spec, "spec");
    checkNotNull(shape, "shape");
    checkNotNull(placement, "placement");
    ExpertShards experts = expertShards(spec, placement, expertShards);
    List<DeviceSpec> replicas = placement.replicaDevices();
    int n = replicas.size();
    checkArgument(shape.batch() % n == 0, "batch_size %s must be divisible by the %s replicas of the placement",
        shape.batch(), n);
    BatchShape shard = new BatchShape(shape.batch() / n, shape.inputLength(), shape.targetLength());
    checkRoutingGroups(spec, shape, shard);
    Template<T> template = Template.build(spec, shard, dtype, seed, zLossFactor, labelSmoothing, experts);
    Graph graph = new Graph();
    try {
      return assemble(spec, shape, shard, graph, template, placement, replicas, experts, xla, seed);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    } finally {
      template.graph.close();
    }
  }

  /** One replica with its gradients, in its own graph: what is spliced N times. */
  private record Template<T extends TFloating>(Graph graph, VariableStore<T> store, ModelInputs<T> inputs,
      Placeholder<TInt64> stepSeed, ModelOutputs<T> outputs, Losses.TokenLoss<T> loss, Operand<T> tokenPart,
      Operand<T> moePart, Placeholder<T> tokenScale, Placeholder<T> moeScale, Output<?>[] gradients,
      Set<String> backward) {

    static <T extends TFloating> Template<T> build(ModelSpec spec, BatchShape shard, Class<T> dtype, long seed,
        double zLossFactor, double labelSmoothing, ExpertShards experts) {
      Graph g = new Graph();
      try {
        Ops tf = Ops.create(g);
        VariableStore<T> store = new VariableStore<>(tf, dtype, seed);
        Placeholder<TInt64> stepSeed = tf.withName("step_seed").placeholder(TInt64.class,
            Placeholder.shape(Shape.scalar()));
        BuildContext<T> ctx = BuildContext.create(tf, store, true, stepSeed).withExpertShards(experts);
        ModelInputs<T> inputs = ModelInputs.create(tf, spec, shard, dtype);
        ModelOutputs<T> outputs = Models.forward(ctx.scope("model"), spec, inputs);
        Losses.TokenLoss<T> loss = Models.loss(ctx.scope("loss"), spec, inputs, outputs, zLossFactor, labelSmoothing);
        Operand<T> total = Models.totalLoss(ctx.scope("loss"), spec, loss, outputs);
        Ops parts = tf.withSubScope("replica_loss");
        Operand<T> tokenPart = parts.withName("token_part").math.add(loss.crossEntropy(), loss.zLoss());
        Operand<T> moePart = parts.withName("moe_part").math.sub(total, tokenPart);
        Placeholder<T> tokenScale = parts.withName("token_scale").placeholder(dtype, Placeholder.shape(Shape.scalar()));
        Placeholder<T> moeScale = parts.withName("moe_scale").placeholder(dtype, Placeholder.shape(Shape.scalar()));
        MissingGradients.registerAll();
        Set<String> before = names(g);
        Output<?>[] grads = g.addGradients("replica_gradients",
            new Output<?>[] {tokenPart.asOutput(), moePart.asOutput()},
            store.values().stream().map(Operand::asOutput).toArray(Output[]::new),
            new Output<?>[] {tokenScale.asOutput(), moeScale.asOutput()});
        Set<String> backward = names(g);
        backward.removeAll(before);
        return new Template<>(g, store, inputs, stepSeed, outputs, loss, tokenPart, moePart, tokenScale, moeScale,
            grads, backward);
      } catch (RuntimeException e) {
        g.close();
        throw e;
      }
    }
  }

  private static Set<String> names(Graph g) {
    Set<String> out = new LinkedHashSet<>();
    for (Iterator<GraphOperation> it = g.operations(); it.hasNext(); ) {
      out.add(it.next().name());
    }
    return out;
  }

  private static <T extends TFloating> ModelGraph<T> assemble(ModelSpec spec, BatchShape shape, BatchShape shard,
      Graph graph, Template<T> template, Placement placement, List<DeviceSpec> replicas, ExpertShards experts,
      boolean xla, long seed) {
    int n = replicas.size();
    Class<T> dtype = template.store.dtype();
    Ops tf = Ops.create(graph).withDevice(placement.parameterDevice());
    VariableStore<T> store = new VariableStore<>(tf, dtype, seed, experts);
    Placeholder<TInt64> stepSeed = tf.withName("step_seed").placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    BuildContext<T> ctx = BuildContext.create(tf, store, true, stepSeed);
    // The variables, made by the model's own builders (so with their initialisers) in an unfetched
    // forward pass on shard-shaped placeholders; the replicas read them.
    ModelInputs<T> unused = ModelInputs.create(tf.withSubScope("variables_of"), spec, shard, dtype);
    Models.forward(ctx.scope("variables_of"), spec, unused);
    checkArgument(store.variables().size() == template.store.variables().size(),
        "replica template has %s variables, the training graph %s", template.store.variables().size(),
        store.variables().size());
    ModelInputs<T> inputs = ModelInputs.create(tf, spec, shape, dtype);

    Map<String, Output<?>> shared = new HashMap<>();
    for (ModelVariable<T> v : template.store.variables()) {
      ModelVariable<T> mine = store.variable(v.name());
      shared.put(key(v.value()), mine.value().asOutput());
      if (!mine.isParted()) {
        // the template's handle feeds only its own reads (not spliced); a parted variable has none
        shared.put(key(v.handle()), mine.handle().asOutput());
      }
    }
    GraphDef def = template.graph.toGraphDef();
    shared.putAll(expertSlices(tf, def, template.store, store));
    List<Map<String, Output<?>>> feeds = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      feeds.add(new HashMap<>(shared));
    }
    shards(tf, template.inputs.inputs(), inputs.inputs(), feeds);
    shards(tf, template.inputs.decoderInputs(), inputs.decoderInputs(), feeds);
    shards(tf, template.inputs.targets(), inputs.targets(), feeds);
    shards(tf, template.inputs.images(), inputs.images(), feeds);
    shards(tf, template.inputs.labels(), inputs.labels(), feeds);
    for (int r = 0; r < n; r++) {
      Operand<TInt64> s = r == 0 ? stepSeed : tf.math.add(stepSeed, tf.constant(SEED_STRIDE * r));
      feeds.get(r).put(key(template.stepSeed), s.asOutput());
    }

    Set<String> mapped = new HashSet<>();
    feeds.get(0).keySet().forEach(k -> mapped.add(k.substring(0, k.lastIndexOf(':'))));
    mapped.add(template.tokenScale.op().name());
    mapped.add(template.moeScale.op().name());
    Set<String> forward = new LinkedHashSet<>();
    for (NodeDef node : def.getNodeList()) {
      String name = node.getName();
      if (!name.startsWith(VARS) && !mapped.contains(name) && !template.backward.contains(name)) {
        forward.add(name);
      }
    }
    List<UnaryOperator<String>> groups = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      groups.add(groupDevices(experts, replicas, r));
    }
    for (int r = 0; r < n; r++) {
      Map<String, Output<?>> feed = feeds.get(r);
      String device = replicas.get(r).toString();
      UnaryOperator<String> group = groups.get(r);
      GraphSplice.splice(graph, def, forward, prefix(r), node -> group.apply(ownOr(node, device)), feed::get);
    }

    // whole-batch token weight and each shard's share of it
    Ops sum = tf.withSubScope("replicas");
    List<Operand<T>> weightSums = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      weightSums.add(replica(graph, r, template.loss.weightSum()));
    }
    Operand<T> weightTotal = sum.withName("weight_total").math.addN(weightSums);
    Operand<T> moeScale = tf.dtypes.cast(tf.constant(1.0 / n), dtype);
    List<Operand<T>> tokenScales = new ArrayList<>();
    // the op that stacks a parted variable's per-expert gradients (from several shards) runs where
    // they are summed over replicas and applied, not on the replica: one hop per expert gradient
    String parameterDevice = placement.parameterDevice().toString();
    Set<String> partedGradients = new HashSet<>();
    List<ModelVariable<T>> templateVariables = template.store.variables();
    for (int i = 0; i < template.gradients.length; i++) {
      if (template.gradients[i] != null && store.variable(templateVariables.get(i).name()).isParted()) {
        partedGradients.add(template.gradients[i].op().name());
      }
    }
    for (int r = 0; r < n; r++) {
      Operand<T> share = sum.withName("token_share_" + r).math.div(weightSums.get(r), weightTotal);
      tokenScales.add(share);
      Map<String, Output<?>> feed = feeds.get(r);
      feed.put(key(template.tokenScale), share.asOutput());
      feed.put(key(template.moeScale), moeScale.asOutput());
      int replica = r;
      Map<String, String> devices = backwardDevices(def, forward, template.backward, replicas.get(r).toString());
      UnaryOperator<String> group = groups.get(r);
      GraphSplice.splice(graph, def, template.backward, prefix(r) + "_backward",
          node -> partedGradients.contains(node.getName()) ? parameterDevice
              : group.apply(devices.get(node.getName())),
          k -> {
            Output<?> o = feed.get(k);
            if (o != null) {
              return o;
            }
            String node = k.substring(0, k.lastIndexOf(':'));
            return forward.contains(node) ? graph.output(prefix(replica) + "/" + k) : null;
          });
    }

    Operand<T> ce = weighted(sum, graph, template.loss.crossEntropy(), tokenScales);
    Operand<T> z = weighted(sum, graph, template.loss.zLoss(), tokenScales);
    Operand<T> tokens = weighted(sum, graph, template.tokenPart, tokenScales);
    Operand<T> moe = mean(sum, graph, template.moePart, n);
    Operand<T> total = sum.withName("total_loss").math.add(tokens, moe);
    List<MoeLayerStats<T>> layers = new ArrayList<>();
    for (MoeLayerStats<T> s : template.outputs.moeLayers()) {
      layers.add(new MoeLayerStats<>(s.layer(), mean(sum, graph, s.auxLoss(), n), mean(sum, graph, s.routerZLoss(), n),
          mean(sum, graph, s.expertFraction(), n), mean(sum, graph, s.droppedFraction(), n), s.capacity(),
          s.groupSize()));
    }
    List<Operand<T>> logits = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      logits.add(replica(graph, r, template.outputs.logits()));
    }
    Operand<T> allLogits = n == 1 ? logits.get(0) : sum.concat(logits, sum.constant(0));
    ModelOutputs<T> outputs = new ModelOutputs<>(allLogits, ImmutableList.copyOf(layers),
        mean(sum, graph, template.outputs.auxLoss(), n), mean(sum, graph, template.outputs.routerZLoss(), n));
    Output<?>[] gradients = new Output<?>[template.gradients.length];
    for (int i = 0; i < gradients.length; i++) {
      if (template.gradients[i] == null) {
        continue;
      }
      List<Operand<T>> parts = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        parts.add(backward(graph, r, template.gradients[i]));
      }
      gradients[i] = n == 1 ? parts.get(0).asOutput() : sum.withName("gradient_" + i).math.addN(parts).asOutput();
    }
    Session session = placement.open(graph, xla);
    return ModelGraph.assemble(spec, shape, graph, session, tf, store, ctx, inputs, outputs,
        new Losses.TokenLoss<>(ce, z, weightTotal), total, stepSeed, gradients);
  }

  /**
   * Expert e's slice of every parted expert variable, read where it is stored: the template
   * unstacks each stacked expert weight [E, ...] into E × [...] ({@code MoeLayer}'s per-expert
   * weights); here those Unpack outputs are fed from an Unpack of each part on its own device
   * (part s holds experts s, s+N, …), so the replicas never read the canonical value, which is
   * assembled on the parameter device for the optimizer only. Keys are the template's
   * {@code Unpack:e} outputs, which the splice then maps instead of copying the Unpack.
   */
  private static <T extends TFloating> Map<String, Output<?>> expertSlices(Ops tf, GraphDef def,
      VariableStore<T> template, VariableStore<T> store) {
    Map<String, String> partedValues = new HashMap<>(); // template value output → variable name
    for (ModelVariable<T> v : template.variables()) {
      if (store.variable(v.name()).isParted()) {
        // a GraphDef input names output 0 without ":0"
        partedValues.put(v.value().asOutput().index() == 0 ? v.value().op().name() : key(v.value()), v.name());
      }
    }
    Map<String, Output<?>> out = new HashMap<>();
    for (NodeDef node : def.getNodeList()) {
      if (!node.getOp().equals("Unpack") || node.getInputCount() == 0) {
        continue;
      }
      String variable = partedValues.get(node.getInput(0));
      if (variable == null) {
        continue;
      }
      PartedVariable<T> parts = store.variable(variable).parts();
      ExpertShards shards = parts.shards();
      List<List<Output<T>>> perPart = new ArrayList<>();
      for (int sh = 0; sh < shards.count(); sh++) {
        Operand<T> part = parts.reads().get(sh);
        long rows = part.shape().get(0);
        perPart.add(tf.withDevice(shards.device(sh)).withSubScope("expert_slices").unstack(part, rows).output());
      }
      long experts = (long) shards.count() * perPart.get(0).size();
      for (int e = 0; e < experts; e++) {
        out.put(node.getName() + ":" + e, perPart.get(shards.shardOf(e)).get(e / shards.count()));
      }
    }
    return out;
  }

  /** A template node's own device (an expert's shard), else the replica's. */
  private static String ownOr(NodeDef node, String replicaDevice) {
    return node.getDevice().isEmpty() ? replicaDevice : node.getDevice();
  }

  /**
   * The device of every backward node (TF's gradient builder gives them none): the shard device of
   * its data inputs when they come from one expert shard apart from ops of the replica (the
   * gradients of an expert's matmuls and activations run with its forward), else the replica's
   * device. A node comes from a shard when it is a forward node with its own device (an expert's
   * op, {@link #ownOr}) or a backward node placed so; every other node (forward nodes without a
   * device, inputs mapped from the training graph) is the replica's, even when a shard shares the
   * replica's device (shard 0 on {@code CPU:0}). GraphDef nodes come in creation order, so a
   * node's inputs are placed before it.
   */
  static Map<String, String> backwardDevices(GraphDef def, Set<String> forward, Set<String> backward,
      String replicaDevice) {
    // node → its shard's device; absent: the replica's
    Map<String, String> shard = new HashMap<>();
    for (NodeDef node : def.getNodeList()) {
      String name = node.getName();
      if (forward.contains(name)) {
        if (!node.getDevice().isEmpty()) {
          shard.put(name, node.getDevice());
        }
      } else if (backward.contains(name)) {
        Set<String> from = new HashSet<>();
        for (String in : node.getInputList()) {
          if (in.startsWith("^")) {
            continue;
          }
          String device = shard.get(in.contains(":") ? in.substring(0, in.lastIndexOf(':')) : in);
          if (device != null) {
            from.add(device);
          }
        }
        if (from.size() == 1) {
          shard.put(name, from.iterator().next());
        }
      }
    }
    Map<String, String> out = new HashMap<>();
    backward.forEach(b -> out.put(b, shard.getOrDefault(b, replicaDevice)));
    return out;
  }

  /**
   * The expert shards of {@code moe.expert_shards} = {@code n} over the placement's first n devices;
   * null for 1 (no expert parallelism). Refuses a dense model, N not dividing the expert count, N
   * not dividing the placement's device count.
   */
  static ExpertShards expertShards(ModelSpec spec, Placement placement, int n) {
    checkArgument(n >= 1, "moe.expert_shards must be >= 1, got %s", n);
    if (n == 1) {
      return null;
    }
    checkArgument(spec.moe().isPresent(), "moe.expert_shards %s needs an MoE model; this one is dense", n);
    int experts = spec.moe().get().numExperts();
    checkArgument(experts % n == 0, "moe.expert_shards %s must divide moe.num_experts %s (expert e lives on shard e"
        + " mod %s)", n, experts, n);
    int devices = placement.replicas();
    checkArgument(n <= devices, "moe.expert_shards %s exceeds the %s device(s) of this run: each shard needs its own"
        + " device (--local-replicas N gives N CPU devices, --cluster one per worker task)", n, devices);
    checkArgument(devices % n == 0, "moe.expert_shards %s must divide the %s devices of this run: the devices form"
        + " groups of %s, each computing every expert for its replicas (--local-replicas or the worker count a"
        + " multiple of %s)",
        n, devices, n, n);
    return ExpertShards.of(placement.replicaDevices().subList(0, n));
  }

  /**
   * The device map of replica {@code r}'s expert ops: with expert shards over devices 0..N−1,
   * replica r belongs to device group r div N and computes expert e on device (r div N)·N + e mod N,
   * so each group of N replicas exchanges tokens only within itself; identity without shards.
   */
  static UnaryOperator<String> groupDevices(ExpertShards experts, List<DeviceSpec> devices, int r) {
    if (experts == null) {
      return UnaryOperator.identity();
    }
    int n = experts.count();
    int first = (r / n) * n;
    Map<String, String> map = new HashMap<>();
    for (int s = 0; s < n; s++) {
      map.put(experts.device(s).toString(), devices.get(first + s).toString());
    }
    return d -> map.getOrDefault(d, d);
  }

  /** Splits a whole-batch input into one feed per replica of the template's placeholder. */
  private static void shards(Ops tf, Operand<?> templateInput, Operand<?> input, List<Map<String, Output<?>>> feeds) {
    if (templateInput == null) {
      return;
    }
    int n = feeds.size();
    if (n == 1) {
      feeds.get(0).put(key(templateInput), input.asOutput());
      return;
    }
    List<? extends Operand<?>> parts = tf.withSubScope("shards").withName(input.op().name().replace('/', '_')).split(tf.constant(0), input, (long) n)
        .output();
    for (int r = 0; r < n; r++) {
      feeds.get(r).put(key(templateInput), parts.get(r).asOutput());
    }
  }

  private static <T extends TFloating> Operand<T> weighted(Ops tf, Graph graph, Operand<T> part,
      List<Operand<T>> scales) {
    List<Operand<T>> terms = new ArrayList<>();
    for (int r = 0; r < scales.size(); r++) {
      terms.add(tf.math.mul(replica(graph, r, part), scales.get(r)));
    }
    return tf.math.addN(terms);
  }

  private static <T extends TFloating> Operand<T> mean(Ops tf, Graph graph, Operand<T> part, int n) {
    List<Operand<T>> terms = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      terms.add(replica(graph, r, part));
    }
    Operand<T> total = n == 1 ? terms.get(0) : tf.math.addN(terms);
    return tf.math.div(total, tf.dtypes.cast(tf.constant((double) n), part.type()));
  }

  @SuppressWarnings("unchecked")
  private static <T extends TFloating> Operand<T> replica(Graph graph, int r, Operand<T> templateOutput) {
    return (Operand<T>) graph.outputOrThrow(prefix(r) + "/" + key(templateOutput));
  }

  @SuppressWarnings("unchecked")
  private static <T extends TFloating> Operand<T> backward(Graph graph, int r, Output<?> templateOutput) {
    return (Operand<T>) graph.outputOrThrow(prefix(r) + "_backward/" + key(templateOutput));
  }

  private static String prefix(int r) {
    return "replica_" + r;
  }

  private static String key(Operand<?> o) {
    return o.op().name() + ":" + o.asOutput().index();
  }

  /**
   * The same routing as one process needs each routing group inside one replica's shard: the
   * group size chosen for a shard's tokens must be the one chosen for the whole batch.
   */
  private static void checkRoutingGroups(ModelSpec spec, BatchShape shape, BatchShape shard) {
    if (spec.moe().isEmpty()) {
      return;
    }
    int max = spec.moe().get().groupSize();
    List<Integer> lengths = spec.arch() instanceof VitConfig v ? List.of(v.sequenceLength())
        : spec.arch() instanceof T5Config ? List.of(shape.inputLength(), shape.targetLength())
        : List.of(shape.inputLength());
    for (int length : lengths) {
      int whole = MoeLayer.groupSize(shape.batch() * length, max);
      int part = MoeLayer.groupSize(shard.batch() * length, max);
      checkArgument(whole == part, "moe.group_size %s: routing groups of %s tokens (whole batch of %s × %s) would span"
          + " replicas, whose shards have %s tokens (groups of %s): set moe.group_size to a divisor of %s",
          max, whole, shape.batch(), length, shard.batch() * length, part, shard.batch() * length);
    }
  }
}
