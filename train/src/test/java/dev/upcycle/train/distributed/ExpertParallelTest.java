package dev.upcycle.train.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.config.SpecConfig;
import dev.upcycle.model.graph.ExpertShards;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.PartedVariable;
import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import dev.upcycle.train.optim.AdamW;
import dev.upcycle.train.optim.StateVariable;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.SyntheticBatchSource;
import dev.upcycle.train.step.TrainStep;
import dev.upcycle.train.step.Trainer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;

/**
 * Expert parallelism ({@code moe.expert_shards}) over 2 local CPU devices: the losses, checkpoints
 * and resumes of the one-device run; each expert's matmuls, weights and optimizer slots on its
 * shard's device (expert e on device e mod 2).
 */
class ExpertParallelTest {

  static final int SHARDS = 2;
  /** The op scope of expert e's ops ({@code BuildContext.forExpert}). */
  static final Pattern EXPERT_OP = Pattern.compile(".*/expert_(\\d+)/.*");

  static TrainStep<TFloat32> sharded(ModelSpec spec, BatchShape shape, Placement placement) {
    return sharded(spec, shape, placement, DistributedModels.options());
  }

  static TrainStep<TFloat32> sharded(ModelSpec spec, BatchShape shape, Placement placement, TrainStep.Options o) {
    return sharded(spec, shape, placement, o, SHARDS);
  }

  static TrainStep<TFloat32> sharded(ModelSpec spec, BatchShape shape, Placement placement, TrainStep.Options o,
      int shards) {
    return TrainStep.over(ReplicatedModel.build(spec, shape, TFloat32.class, o.initSeed(), o.zLossFactor(),
        o.labelSmoothing(), placement, false, shards), o).initialize();
  }

  static List<Double> losses(TrainStep<TFloat32> step, ModelSpec spec, BatchShape shape) {
    SyntheticBatchSource data = new SyntheticBatchSource(spec, shape, TFloat32.class, 3);
    List<Double> out = new ArrayList<>();
    for (long s = 0; s < ReplicatedModelTest.STEPS; s++) {
      try (Batch b = data.nextBatch(s)) {
        out.add(step.run(b, s).loss());
      }
    }
    return out;
  }

  static List<Double> oneDevice(ModelSpec spec, BatchShape shape) {
    return oneDevice(spec, shape, DistributedModels.options());
  }

  static List<Double> oneDevice(ModelSpec spec, BatchShape shape, TrainStep.Options o) {
    try (TrainStep<TFloat32> step = TrainStep.build(spec, shape, TFloat32.class, o).initialize()) {
      return losses(step, spec, shape);
    }
  }

  /** A ViT whose experts have biases ([E, d_ff], [E, d]): 4 patches × batch 4 = 16 tokens, groups of 8. */
  static ModelSpec vit() {
    VitConfig vit = new VitConfig(8, 4, 1, 10, 16, 32, 2, 2, VitConfig.Pooling.GAP, 0.0);
    return ModelSpec.sparse(vit, MoeConfig.paperVit(4).withGroupSize(DistributedModels.GROUP_SIZE),
        SparseLayout.EVERY_OTHER, SparseLayout.DENSE);
  }

  /** The sharded step's losses equal the one-device step's (ReplicatedModelTest's tolerance). */
  private static void assertShardedGivesOneDeviceLosses(ModelSpec spec) {
    List<Double> want = oneDevice(spec, DistributedModels.SHAPE);
    try (TrainStep<TFloat32> step = sharded(spec, DistributedModels.SHAPE, Placement.localCpus(SHARDS))) {
      ReplicatedModelTest.assertSameLosses(want, losses(step, spec, DistributedModels.SHAPE));
    }
  }

  @Test
  void twoExpertShardsGiveTheOneDeviceLossesExpertChoiceAndTop2() {
    assertShardedGivesOneDeviceLosses(DistributedModels.moe());
  }

  @Test
  void twoExpertShardsGiveTheOneDeviceLossesVitWithExpertBiases() {
    assertShardedGivesOneDeviceLosses(vit());
  }

  @Test
  void twoExpertShardsGiveTheOneDeviceLossesWithAdamW() {
    ModelSpec spec = vit();
    TrainStep.Options a = DistributedModels.options();
    TrainStep.Options adamw = new TrainStep.Options(AdamW.defaults(), a.schedule(), a.clipNorm(), a.xla(),
        a.zLossFactor(), a.labelSmoothing(), a.initSeed());
    List<Double> want = oneDevice(spec, DistributedModels.SHAPE, adamw);
    try (TrainStep<TFloat32> step = sharded(spec, DistributedModels.SHAPE, Placement.localCpus(SHARDS), adamw)) {
      ReplicatedModelTest.assertSameLosses(want, losses(step, spec, DistributedModels.SHAPE));
      long partedSlots = step.state().variables().stream().filter(StateVariable::isParted).count();
      assertEquals(2 * 4, partedSlots, "m and v of the 4 expert variables, stored with them");
    }
  }

  @Test
  void eachExpertsMatMulsRunOnItsShardDevice() {
    ModelSpec spec = DistributedModels.moe();
    Placement placement = Placement.localCpus(SHARDS);
    ExpertShards shards = ExpertShards.of(placement.replicaDevices());
    SyntheticBatchSource data = new SyntheticBatchSource(spec, DistributedModels.SHAPE, TFloat32.class, 3);
    try (TrainStep<TFloat32> step = sharded(spec, DistributedModels.SHAPE, placement); Batch b = data.nextBatch(0)) {
      RunMetadata md = step.runTraced(b, 0);
      Map<String, Integer> forwardMatMuls = new TreeMap<>();
      Map<String, Integer> backwardMatMuls = new TreeMap<>();
      Map<Integer, Integer> perExpert = new TreeMap<>();
      for (DeviceStepStats d : md.getStepStats().getDevStatsList()) {
        for (NodeExecStats n : d.getNodeStatsList()) {
          String name = n.getNodeName();
          GraphOperation op = step.model().graph.operation(name);
          Matcher m = EXPERT_OP.matcher(name);
          boolean matMul = op != null && op.type().equals("MatMul");
          if (m.matches() && !name.matches(".*/_\\d+")) {
            int expert = Integer.parseInt(m.group(1));
            assertEquals(shards.deviceOfExpert(expert).toString(), d.getDevice(), "expert " + expert + "'s op " + name);
            if (matMul && name.startsWith("replica_0/")) {
              forwardMatMuls.merge(d.getDevice(), 1, Integer::sum);
              perExpert.merge(expert, 1, Integer::sum);
            }
          }
          if (matMul && name.startsWith("replica_0_backward/")) {
            backwardMatMuls.merge(d.getDevice(), 1, Integer::sum);
          }
        }
      }
      // gated-GELU experts: 3 matmuls each, in every MoE layer (1 encoder + 1 decoder)
      for (int e = 0; e < 4; e++) {
        assertEquals(6, perExpert.getOrDefault(e, 0), "forward matmuls of expert " + e + ": " + perExpert);
      }
      String shard1 = shards.device(1).toString();
      assertEquals(12, forwardMatMuls.getOrDefault(shard1, 0), "experts 1 and 3 on " + shard1 + ": " + forwardMatMuls);
      // every expert matmul has two gradient matmuls, which run with it; nothing else runs on shard 1
      assertEquals(2 * forwardMatMuls.get(shard1), backwardMatMuls.getOrDefault(shard1, 0),
          "backward matmuls per device: " + backwardMatMuls);
    }
  }

  /** The replica of a spliced node's name ({@code replica_<r>/…} or {@code replica_<r>_backward/…}). */
  static final Pattern REPLICA_OP = Pattern.compile("replica_(\\d+)(_backward)?/.*");

  /**
   * Data and expert parallelism together: 4 devices, 4 data replicas of one example each, 2 expert
   * shards. The losses are the one-device ones; the devices form groups {0, 1} and {2, 3}, and
   * replica r computes expert e on device 2·(r div 2) + e mod 2, so every device runs expert ops.
   */
  @Test
  void fourReplicasOverTwoExpertShardsGiveTheOneDeviceLossesWithExpertsInTheirGroup() {
    ModelSpec spec = DistributedModels.moe();
    Placement placement = Placement.localCpus(4);
    List<Double> want = oneDevice(spec, DistributedModels.SHAPE);
    try (TrainStep<TFloat32> step = sharded(spec, DistributedModels.SHAPE, placement, DistributedModels.options(),
        SHARDS)) {
      ReplicatedModelTest.assertSameLosses(want, losses(step, spec, DistributedModels.SHAPE));
      SyntheticBatchSource data = new SyntheticBatchSource(spec, DistributedModels.SHAPE, TFloat32.class, 3);
      Map<String, Integer> expertMatMuls = new TreeMap<>();
      try (Batch b = data.nextBatch(0)) {
        RunMetadata md = step.runTraced(b, 0);
        for (DeviceStepStats d : md.getStepStats().getDevStatsList()) {
          for (NodeExecStats n : d.getNodeStatsList()) {
            String name = n.getNodeName();
            Matcher expert = EXPERT_OP.matcher(name);
            Matcher replica = REPLICA_OP.matcher(name);
            if (!expert.matches() || !replica.matches() || name.matches(".*/_\\d+")) {
              continue;
            }
            int e = Integer.parseInt(expert.group(1));
            int r = Integer.parseInt(replica.group(1));
            String want4 = placement.replicaDevices().get(2 * (r / 2) + e % 2).toString();
            assertEquals(want4, d.getDevice(), "replica " + r + ", expert " + e + ": " + name);
            GraphOperation op = step.model().graph.operation(name);
            if (op != null && op.type().equals("MatMul") && replica.group(2) == null) {
              expertMatMuls.merge(d.getDevice(), 1, Integer::sum);
            }
          }
        }
      }
      assertEquals(4, expertMatMuls.size(), "forward expert matmuls on every device: " + expertMatMuls);
      // 2 experts a device, for the 2 replicas of its group, in 2 MoE layers, 3 matmuls each
      for (Map.Entry<String, Integer> m : expertMatMuls.entrySet()) {
        assertEquals(2 * 2 * 2 * 3, m.getValue(), m.getKey() + ": " + expertMatMuls);
      }
    }
  }

  @Test
  void expertWeightsAndTheirOptimizerSlotsLiveOnTheirShardDevices() {
    ModelSpec spec = vit();
    Placement placement = Placement.localCpus(SHARDS);
    ExpertShards shards = ExpertShards.of(placement.replicaDevices());
    String parameterDevice = placement.parameterDevice().toString();
    try (TrainStep<TFloat32> step = sharded(spec, DistributedModels.SHAPE, placement)) {
      int parted = 0;
      for (ModelVariable<TFloat32> v : step.model().store.variables()) {
        boolean expert = v.name().contains("/expert/");
        assertEquals(expert, v.isParted(), v.name());
        if (expert) {
          assertOnShards(v.parts(), shards, v.name());
          assertEquals(4 / SHARDS, v.parts().reads().get(0).shape().asArray()[0], v.name() + " holds 2 experts a part");
          // the replicas read each expert's slice from its part, on the part's device, never the
          // canonical [E, ...] value (assembled for the optimizer only)
          for (GraphOperation reader : ((GraphOperation) v.value().op()).consumers()) {
            assertFalse(reader.name().startsWith("replica_"), v.name() + " read by " + reader.name());
          }
          for (int p = 0; p < SHARDS; p++) {
            String partDevice = shards.device(p).toString();
            assertTrue(((GraphOperation) v.parts().reads().get(p).op()).consumers().stream()
                .anyMatch(o -> o.type().equals("Unpack") && o.device().equals(partDevice)), v.name() + " part " + p);
          }
          parted++;
        } else {
          assertEquals(parameterDevice, device(v.handle()), v.name());
        }
      }
      assertEquals(4, parted, "wi/wo kernels and biases of the one MoE layer");
      // replica 1 (on CPU:1) stacks each parted variable's per-expert gradients, which come from both
      // shards, on the parameter device, where they are summed and applied
      List<String> stacks = new ArrayList<>();
      for (Iterator<GraphOperation> it = step.model().graph.operations(); it.hasNext(); ) {
        GraphOperation op = it.next();
        if (op.name().startsWith("replica_1_backward/") && op.type().equals("Pack")) {
          Set<String> from = new HashSet<>();
          for (int i = 0; i < op.numInputs(); i++) {
            from.add(((GraphOperation) op.input(i).op()).device());
          }
          if (from.size() > 1) {
            stacks.add(op.name() + "@" + op.device());
            assertEquals(parameterDevice, op.device(), op.name() + " stacks inputs from " + from);
          }
        }
      }
      assertEquals(4, stacks.size(), "one stack per parted variable: " + stacks);
      int partedSlots = 0;
      for (StateVariable<?> s : step.state().variables()) {
        if (s.name().contains("/expert/")) {
          assertTrue(s.isParted(), s.name() + " keeps the expert axis: stored with its expert");
          assertOnShards(s.parts(), shards, s.name());
          partedSlots++;
        } else {
          assertFalse(s.isParted(), s.name());
          assertEquals(parameterDevice, device(s.handle()), s.name());
        }
      }
      // Adafactor: kernels [4, 16, 32] factored (v_row, v_col), biases [4, n] a full v
      assertEquals(2 + 2 + 1 + 1, partedSlots, "slots of the expert variables");
    }
  }

  private static void assertOnShards(PartedVariable<?> parts, ExpertShards shards, String name) {
    assertEquals(shards.count(), parts.handles().size(), name);
    for (int s = 0; s < shards.count(); s++) {
      assertEquals(shards.device(s).toString(), device(parts.handles().get(s)), name + " part " + s);
      assertEquals(shards.device(s).toString(), device(parts.reads().get(s)), name + " read " + s);
    }
  }

  private static String device(Operand<? extends TType> o) {
    return ((GraphOperation) o.op()).device();
  }

  // ---- checkpoints and resume, through the training loop ----

  static final int RUN_STEPS = 4;

  static TrainConfig config(Path dir, String name, int shards) {
    return TrainConfig.defaults().withOverrides(Map.ofEntries(
        Map.entry("model.t5", "{\"d_model\":32,\"d_ff\":64,\"num_heads\":2,\"d_kv\":16,\"encoder_layers\":2,"
            + "\"decoder_layers\":2,\"vocab_size\":128,\"relative_buckets\":8,\"relative_max_distance\":16,"
            + "\"dropout\":0.0}"),
        Map.entry("moe.num_experts", "4"), Map.entry("moe.group_size", "8"),
        Map.entry("moe.expert_shards", String.valueOf(shards)),
        Map.entry("batch_size", "4"), Map.entry("input_length", "8"), Map.entry("target_length", "8"),
        Map.entry("train_steps", String.valueOf(RUN_STEPS)),
        Map.entry("optimizer.adafactor.min_dim_size_to_factor", "8"),
        Map.entry("checkpoint_every", "2"), Map.entry("keep_checkpoints", "3"),
        Map.entry("eval_every", "2"), Map.entry("eval_batches", "1"),
        Map.entry("seed", "11"), Map.entry("xla", "off"),
        Map.entry("output_dir", dir.resolve(name).toString())));
  }

  /**
   * Trains (or resumes) {@code config}, evaluating every 2 steps; returns the loss of every step
   * run by step number, and the evaluation losses by step negated (-2, -4).
   */
  static Map<Long, Double> train(TrainConfig config, boolean resume) throws Exception {
    Map<Long, Double> losses = new TreeMap<>();
    TrainListener listener = new TrainListener() {
      @Override
      public void onStep(StepMetrics m) {
        losses.put(m.step(), m.loss());
      }

      @Override
      public void onEval(long step, double loss, double accuracy) {
        losses.put(-step, loss);
      }
    };
    Trainer.StepFactory steps = config.moe().expertShards() == 1 ? Trainer.ONE_PROCESS
        : DistributedTraining.steps(Placement.localCpus(config.moe().expertShards()));
    Trainer.run(config, new SyntheticBatchSource(config.modelSpec(), config.batchShape(), TFloat32.class,
        config.seed()), Optional.empty(), resume, listener, Optional.of(new SyntheticBatchSource(config.modelSpec(),
        config.batchShape(), TFloat32.class, config.seed() + 1)), steps);
    return losses;
  }

  static Path checkpoint(Path dir, String run, long step) {
    return dir.resolve(run).resolve("checkpoints").resolve(CheckpointManager.folderName(step));
  }

  /** Every tensor of a checkpoint by name. */
  static Map<String, RawTensor> tensors(Path folder) throws Exception {
    Map<String, RawTensor> out = new TreeMap<>();
    try (RenamingReader r = CheckpointFormats.open(folder, Optional.empty())) {
      for (TensorInfo t : r.tensors()) {
        out.put(t.name(), r.read(t.name()));
      }
    }
    return out;
  }

  static void assertSameTensors(Map<String, RawTensor> want, Map<String, RawTensor> got) {
    assertEquals(want.keySet(), got.keySet(), "canonical names");
    for (String name : want.keySet()) {
      RawTensor w = want.get(name);
      RawTensor g = got.get(name);
      assertArrayEquals(w.info().shape(), g.info().shape(), name);
      assertEquals(w.info().dtype(), g.info().dtype(), name);
      if (w.info().dtype() == DType.FLOAT32) {
        FloatBuffer a = w.data().asFloatBuffer();
        FloatBuffer b = g.data().asFloatBuffer();
        for (int i = 0; i < a.limit(); i++) {
          float x = a.get(i);
          assertEquals(x, b.get(i), ReplicatedModelTest.TOLERANCE * Math.max(1, Math.abs(x)), name + "[" + i + "]");
        }
      } else {
        assertArrayEquals(w.bytes(), g.bytes(), name);
      }
    }
  }

  @Test
  void checkpointsHoldTheCanonicalTensorsAndResumeAcrossShardings(@TempDir Path dir) throws Exception {
    Map<Long, Double> whole = train(config(dir, "whole", 1), false);
    Map<Long, Double> sharded = train(config(dir, "sharded", SHARDS), false);
    // train losses of steps 1..4 and the evaluations after steps 2 and 4 (the Evaluator reads the
    // canonical weights of the sharded step)
    assertEquals(List.of(-4L, -2L, 1L, 2L, 3L, 4L), new ArrayList<>(whole.keySet()));
    assertEquals(whole.keySet(), sharded.keySet());
    for (long s : whole.keySet()) {
      assertEquals(whole.get(s), sharded.get(s), ReplicatedModelTest.TOLERANCE * Math.abs(whole.get(s)), "step " + s);
    }
    Map<String, RawTensor> wholeTensors = tensors(checkpoint(dir, "whole", RUN_STEPS));
    assertTrue(wholeTensors.keySet().stream().anyMatch(n -> n.contains("/expert/") && n.startsWith("state/")),
        "the checkpoint holds expert slots: " + wholeTensors.keySet());
    assertSameTensors(wholeTensors, tensors(checkpoint(dir, "sharded", RUN_STEPS)));

    // the sharded run's step-2 checkpoint resumed by an unsharded run, and the other way round
    for (String[] from : new String[][] {{"sharded", "1"}, {"whole", String.valueOf(SHARDS)}}) {
      String run = "from_" + from[0];
      Path target = checkpoint(dir, run, 2);
      Files.createDirectories(target);
      try (var files = Files.list(checkpoint(dir, from[0], 2))) {
        for (Path f : files.toList()) {
          Files.copy(f, target.resolve(f.getFileName()));
        }
      }
      Map<Long, Double> resumed = train(config(dir, run, Integer.parseInt(from[1])), true);
      assertEquals(List.of(-4L, 3L, 4L), new ArrayList<>(resumed.keySet()), run);
      for (long s : resumed.keySet()) {
        assertEquals(whole.get(s), resumed.get(s), ReplicatedModelTest.TOLERANCE * Math.abs(whole.get(s)),
            run + " step " + s);
      }
      assertSameTensors(wholeTensors, tensors(checkpoint(dir, run, RUN_STEPS)));
    }
  }

  // ---- what is refused ----

  @Test
  void aShardCountThatDoesNotDivideTheExpertsIsRefused(@TempDir Path dir) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> config(dir, "x", 3));
    assertTrue(e.getMessage().contains("moe.expert_shards 3 must divide moe.num_experts 4"), e.getMessage());
    IllegalArgumentException dense = assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults()
        .withOverrides(Map.of("moe.expert_shards", "2")));
    assertTrue(dense.getMessage().contains("moe.expert_shards 2 needs an MoE model"), dense.getMessage());
  }

  @Test
  void moreShardsThanDevicesAndOtherUnbuiltCombinationsAreRefused(@TempDir Path dir) {
    ModelSpec spec = DistributedModels.moe();
    IllegalArgumentException more = assertThrows(IllegalArgumentException.class, () -> ReplicatedModel.build(spec,
        DistributedModels.SHAPE, TFloat32.class, 7, 1e-4, 0, Placement.localCpus(2), false, 4));
    assertTrue(more.getMessage().contains("moe.expert_shards 4 exceeds the 2 device(s)"), more.getMessage());
    IllegalArgumentException uneven = assertThrows(IllegalArgumentException.class, () -> ReplicatedModel.build(spec,
        DistributedModels.SHAPE, TFloat32.class, 7, 1e-4, 0, Placement.localCpus(3), false, 2));
    assertTrue(uneven.getMessage().contains("moe.expert_shards 2 must divide the 3 devices"), uneven.getMessage());
    IllegalArgumentException oneDevice = assertThrows(IllegalArgumentException.class,
        () -> Trainer.ONE_PROCESS.build(config(dir, "one", SHARDS), TFloat32.class));
    assertTrue(oneDevice.getMessage().contains("moe.expert_shards 2") && oneDevice.getMessage()
        .contains("--local-replicas 2"), oneDevice.getMessage());
    TrainConfig xla = config(dir, "xla", SHARDS).withOverrides(Map.of("xla", "auto"));
    IllegalArgumentException auto = assertThrows(IllegalArgumentException.class,
        () -> DistributedTraining.steps(Placement.localCpus(SHARDS)).build(xla, TFloat32.class));
    assertTrue(auto.getMessage().contains("xla: auto") && auto.getMessage().contains("moe.expert_shards 2"),
        auto.getMessage());
  }

  @Test
  void expertShardsArePlacementNotModel(@TempDir Path dir) {
    TrainConfig sharded = config(dir, "a", SHARDS);
    assertEquals(2, sharded.moe().expertShards());
    assertEquals(config(dir, "a", 1).modelSpec(), sharded.modelSpec(), "the same model however it is placed");
    assertEquals(1, TrainConfig.fromJson("{\"moe\": {\"num_experts\": 4}}").moe().expertShards(), "default");
    // a record written before the field existed reads as 1
    ObjectNode tree = sharded.specConfig().toTree();
    assertEquals(2, tree.get("moe").get("expert_shards").asInt());
    ((ObjectNode) tree.get("moe")).remove("expert_shards");
    SpecConfig old = SpecConfig.fromTree(tree);
    assertEquals(1, old.moe().expertShards());
    assertEquals(sharded.modelSpec(), old.spec());
  }
}
