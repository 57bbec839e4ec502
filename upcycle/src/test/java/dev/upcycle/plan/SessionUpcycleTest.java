package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.InMemoryCheckpoint;
import dev.upcycle.ckpt.InMemoryCheckpointWriter;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.graph.Initializer;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.names.CanonicalNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.types.TFloat32;

/**
 * The in-memory upcycle runs the code of {@code convert}: for the same dense variables, options
 * and seed, {@link SessionUpcycle} produces (and assigns to the MoE model) byte for byte the tensors
 * that {@link ConvertJob} writes into a TF bundle on disk.
 */
class SessionUpcycleTest {

  private static final long STEP = 77;
  private static final BatchShape SHAPE = new BatchShape(2, 8, 6);

  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("t5-tiny every_other, plain tiles", Presets.get("t5-tiny"),
            UpcycleOptions.defaults(4).withSeed(11)),
        Arguments.of("t5-tiny all layers, noise + drop-upcycling", Presets.get("t5-tiny"),
            UpcycleOptions.defaults(4).withLayouts(SparseLayout.layers(0, 1), SparseLayout.layers(0, 1))
                .withNoise(0.1).withDropUpcycling(0.25).withSeed(5)),
        Arguments.of("vit-mnist last_2, fan-in router", Presets.get("vit-mnist"),
            UpcycleOptions.defaults(2).withLayouts(SparseLayout.lastN(2), SparseLayout.DENSE)
                .withRouterInit(Initializer.fanIn(1.0)).withSeed(9)),
        Arguments.of("lm-tiny every_other", Presets.get("lm-tiny"),
            UpcycleOptions.defaults(4).withLayouts(SparseLayout.EVERY_OTHER, SparseLayout.DENSE).withSeed(2)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void inMemoryUpcycleGivesTheBytesOfConvert(String label, ArchitectureConfig arch, UpcycleOptions options)
      throws Exception {
    ModelSpec moeSpec = ModelSpec.sparse(arch, MoeConfig.paperT5(options.numExperts()), options.encoderLayout(),
        options.decoderLayout());
    try (ModelGraph<TFloat32> dense = ModelGraph.build(ModelSpec.dense(arch), SHAPE, TFloat32.class, false, 21, false,
            false).initialize();
        ModelGraph<TFloat32> moe = ModelGraph.build(moeSpec, SHAPE, TFloat32.class, false, 22, false, false)) {
      Path denseDir = tmp.resolve("dense");
      ModelCheckpoints.save(dense, denseDir.resolve("model.ckpt-" + STEP),
          List.of(ModelCheckpoints.i64(CanonicalNames.STEP, STEP)));
      Path out = tmp.resolve("moe");
      ConvertJob.run(denseDir, out, options, Optional.empty(), false, false, ProgressListener.NONE);

      SessionUpcycle.Result result = SessionUpcycle.apply(dense.session, dense.store, moe.session, moe.store, options);

      try (CheckpointReader disk = TfBundleReader.open(out)) {
        TreeSet<String> onDisk = new TreeSet<>(disk.tensors().stream().map(TensorInfo::name).toList());
        assertTrue(onDisk.remove(CanonicalNames.STEP), label + ": convert carries the step");
        assertEquals(onDisk, new TreeSet<>(result.tensors().keySet()), label + ": the same tensors");
        assertEquals(onDisk, new TreeSet<>(moe.store.variables().stream().map(ModelVariable::name).toList()),
            label + ": exactly the MoE model's variables");
        for (String name : onDisk) {
          RawTensor expected = disk.read(name);
          RawTensor made = result.tensors().get(name);
          assertEquals(expected.info(), made.info(), label + ": " + name);
          assertArrayEquals(expected.bytes(), made.bytes(), label + ": bytes of " + name);
          try (TFloat32 assigned = moe.store.fetch(moe.session, name)) {
            byte[] bytes = new byte[(int) assigned.numBytes()];
            assigned.asRawTensor().data().read(bytes);
            assertArrayEquals(expected.bytes(), bytes, label + ": the MoE variable " + name + " holds them");
          }
        }
      }
      assertTrue(result.count(Rule.Kind.FRESH_ROUTER) > 0 && result.count(Rule.Kind.TILE) > 0, label);
      assertEquals(result.tensors().size(), result.executed().tensorsWritten());
    }
  }

  @Test
  void executorOverAnInMemoryCheckpointMatchesConvertWithGranularity() throws Exception {
    // granular experts have no graph in the model module: compare the tensors only, step included
    UpcycleOptions options = UpcycleOptions.defaults(4).withGranularity(2).withNoise(0.05).withSeed(13);
    try (ModelGraph<TFloat32> dense = ModelGraph.build(ModelSpec.dense(Presets.get("t5-tiny")), SHAPE,
        TFloat32.class, false, 23, false, false).initialize()) {
      Path denseDir = tmp.resolve("dense");
      RawTensor step = ModelCheckpoints.i64(CanonicalNames.STEP, STEP);
      ModelCheckpoints.save(dense, denseDir.resolve("model.ckpt-" + STEP), List.of(step));
      Path out = tmp.resolve("moe");
      ConvertResult converted = ConvertJob.run(denseDir, out, options, Optional.empty(), false, false,
          ProgressListener.NONE);

      List<RawTensor> held = new ArrayList<>(ModelCheckpoints.variables(dense));
      held.add(step);
      InMemoryCheckpoint source = new InMemoryCheckpoint("dense t5-tiny", held);
      UpcyclePlan plan = PlanBuilder.build(source.tensors(), options);
      PlanCheck.check(plan).orThrow();
      assertTrue(plan.counts().getOrDefault(Rule.Kind.GRANULAR, 0) > 0, "the plan splits MLPs");
      List<String> progress = new ArrayList<>();
      PlanExecutor.Result executed;
      try (InMemoryCheckpointWriter writer = new InMemoryCheckpointWriter()) {
        executed = PlanExecutor.run(plan, source, writer, new ProgressListener() {
          @Override
          public void tensorWritten(int done, int total, String name, long bytes) {
            progress.add(done + "/" + total + " " + name);
          }
        });
        writer.commit();
        assertEquals(converted.tensorsWritten(), executed.tensorsWritten());
        assertEquals(converted.bytesWritten(), executed.bytesWritten());
        assertEquals(converted.bytesRead(), executed.bytesRead());
        assertEquals(executed.tensorsWritten(), progress.size());
        assertTrue(progress.get(progress.size() - 1).startsWith(executed.tensorsWritten() + "/"
            + plan.targets().size() + " "), progress.get(progress.size() - 1));
        try (CheckpointReader disk = TfBundleReader.open(out)) {
          assertEquals(disk.tensors().stream().map(TensorInfo::name).toList(),
              new TreeSet<>(writer.tensors().keySet()).stream().toList());
          for (TensorInfo t : disk.tensors()) {
            RawTensor made = writer.tensors().get(t.name());
            assertEquals(t, made.info(), t.name());
            assertArrayEquals(disk.read(t.name()).bytes(), made.bytes(), "bytes of " + t.name());
          }
        }
      }
    }
  }

  @Test
  void optionsThatDoNotGiveTheMoeModelAreRefusedNamingTheVariable() {
    ArchitectureConfig arch = Presets.get("t5-tiny");
    ModelSpec moeSpec = ModelSpec.sparse(arch, MoeConfig.paperT5(4), SparseLayout.EVERY_OTHER,
        SparseLayout.EVERY_OTHER);
    try (ModelGraph<TFloat32> dense = ModelGraph.build(ModelSpec.dense(arch), SHAPE, TFloat32.class, false, 21, false,
            false).initialize();
        ModelGraph<TFloat32> moe = ModelGraph.build(moeSpec, SHAPE, TFloat32.class, false, 22, false, false)) {
      UpcycleOptions wrongLayout = UpcycleOptions.defaults(4).withLayouts(SparseLayout.layers(0), SparseLayout.DENSE);
      PlanCheckException e = assertThrows(PlanCheckException.class,
          () -> SessionUpcycle.apply(dense.session, dense.store, moe.session, moe.store, wrongLayout));
      assertTrue(e.getMessage().contains("encoder/layers_1/mlp/expert/wi_0/kernel"), e.getMessage());
      UpcycleOptions wrongExperts = UpcycleOptions.defaults(2);
      e = assertThrows(PlanCheckException.class,
          () -> SessionUpcycle.apply(dense.session, dense.store, moe.session, moe.store, wrongExperts));
      assertTrue(e.getMessage().contains("shape mismatch"), e.getMessage());
    }
  }

  @Test
  void aSourceThatReadsOtherwiseThanListedIsAnErrorNamingIt() {
    RawTensor held = new RawTensor(new TensorInfo("encoder/encoder_norm/scale", DType.FLOAT32, new long[] {4}),
        ByteBuffer.allocate(16));
    InMemoryCheckpoint source = new InMemoryCheckpoint("odd", List.of(held));
    UpcyclePlan plan = PlanBuilder.build(
        List.of(new TensorInfo("encoder/encoder_norm/scale", DType.FLOAT32, new long[] {2, 2})),
        UpcycleOptions.defaults(2));
    IOException e = assertThrows(IOException.class,
        () -> PlanExecutor.run(plan, source, new InMemoryCheckpointWriter(), ProgressListener.NONE));
    assertTrue(e.getMessage().contains("in-memory:odd") && e.getMessage().contains("encoder/encoder_norm/scale")
        && e.getMessage().contains("[2, 2]"), e.getMessage());
  }
}
