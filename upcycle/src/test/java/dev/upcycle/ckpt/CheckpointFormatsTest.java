package dev.upcycle.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.plan.ConvertJob;
import dev.upcycle.plan.ProgressListener;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Format and naming detection, and a Mesh-TF bfloat16 checkpoint converted end to end. */
class CheckpointFormatsTest {

  @TempDir Path tmp;

  private static TensorInfo bf16(String name, long... shape) {
    return new TensorInfo(name, DType.BFLOAT16, shape);
  }

  /** A two-block Mesh-TF T5 encoder MLP with Adafactor slots and global_step, bfloat16. */
  private Path meshTf() throws Exception {
    Path dir = tmp.resolve("mtf");
    SplittableRandom rnd = new SplittableRandom(1);
    List<TensorInfo> infos = new java.util.ArrayList<>(List.of(bf16("shared/embedding", 32, 8)));
    for (int b = 0; b < 2; b++) {
      String p = String.format("encoder/block_%03d/layer_001/", b);
      infos.add(bf16(p + "DenseReluDense/wi_0/kernel", 8, 16));
      infos.add(bf16(p + "DenseReluDense/wi_1/kernel", 8, 16));
      infos.add(bf16(p + "DenseReluDense/wo/kernel", 16, 8));
      infos.add(bf16(p + "rms_norm/scale", 8));
      infos.add(new TensorInfo(p + "DenseReluDense/wo/kernel_slot_vr", DType.FLOAT32, new long[] {16}));
    }
    try (TfBundleWriter w = TfBundleWriter.create(Files.createDirectories(dir).resolve("model.ckpt-1000"))) {
      for (TensorInfo t : infos) {
        w.write(SyntheticCheckpoint.random(t, rnd));
      }
      w.write(new RawTensor(new TensorInfo("global_step", DType.INT64, new long[0]),
          ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000)));
      w.commit();
    }
    return dir;
  }

  @Test
  void meshTfNamesAreDetectedAndMappedToCanonical() throws Exception {
    Path dir = meshTf();
    try (RenamingReader r = CheckpointFormats.open(dir, Optional.empty())) {
      CheckpointFormats.Detected d = CheckpointFormats.detected(r);
      assertEquals("tf-bundle", d.format());
      assertEquals(CheckpointFormats.MESH_TF, d.naming());
      assertEquals(List.of(), d.unmapped());
      assertTrue(d.indexFile().toString().endsWith("model.ckpt-1000.index"));
      List<String> names = r.tensors().stream().map(TensorInfo::name).toList();
      assertTrue(names.contains("encoder/layers_1/mlp/wi_0/kernel"), names.toString());
      assertTrue(names.contains("state/param_states/encoder/layers_0/mlp/wo/kernel/v_row"), names.toString());
      assertTrue(names.contains("state/step"));
      assertEquals("encoder/block_001/layer_001/DenseReluDense/wo/kernel",
          r.storedName("encoder/layers_1/mlp/wo/kernel"));
      try (TfBundleReader raw = TfBundleReader.open(dir)) {
        assertArrayEquals(raw.read("encoder/block_001/layer_001/DenseReluDense/wo/kernel").bytes(),
            r.read("encoder/layers_1/mlp/wo/kernel").bytes());
      }
    }
  }

  @Test
  void bfloat16MeshTfConvertsAndStaysBfloat16() throws Exception {
    Path to = tmp.resolve("moe");
    ConvertJob.run(meshTf(), to, UpcycleOptions.defaults(2).withNoise(0.05), Optional.empty(), false, false,
        ProgressListener.NONE);
    assertTrue(Files.isRegularFile(to.resolve("model.ckpt-1000.index")));
    try (TfBundleReader r = TfBundleReader.open(to)) {
      TensorInfo wo = r.tensors().stream().filter(t -> t.name().equals("encoder/layers_1/mlp/expert/wo/kernel"))
          .findFirst().orElseThrow();
      assertEquals(DType.BFLOAT16, wo.dtype());
      assertArrayEquals(new long[] {2, 16, 8}, wo.shape());
      assertEquals(DType.FLOAT32, r.tensors().stream()
          .filter(t -> t.name().equals("encoder/layers_1/mlp/router/router_weights/w/kernel")).findFirst()
          .orElseThrow().dtype());
      assertEquals(1000, r.read("state/step").data().getLong(0));
      assertTrue(r.tensors().stream().noneMatch(t -> t.name().startsWith("state/param_states")), "RESET");
    }
  }

  @Test
  void notACheckpointIsAClearError() throws Exception {
    Path empty = Files.createDirectory(tmp.resolve("empty"));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> CheckpointFormats.open(empty, Optional.empty()));
    assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("no supported checkpoint"),
        e.getMessage());
  }

  @Test
  void orbaxPlaceholdersAreRefusedForReadingButListed() throws Exception {
    Path orbax = Fixtures.fixture("t5x_tiny_orbax/1");
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> CheckpointFormats.open(orbax, Optional.empty()));
    assertTrue(e.getMessage().contains(orbax.resolve("checkpoint").toString()), e.getMessage());
    assertTrue(e.getMessage().contains("tensor 'state/param_states/bias'")
        && e.getMessage().contains("PLACEHOLDER://_optimizer.state.param_states.bias"), e.getMessage());
    assertTrue(e.getMessage().contains("Orbax checkpoint") && e.getMessage().contains("cannot read"), e.getMessage());
    try (RenamingReader r = CheckpointFormats.list(orbax, Optional.empty())) {
      CheckpointFormats.Detected d = CheckpointFormats.detected(r);
      assertEquals(4, d.placeholders().size());
      assertFalse(d.readable());
      assertTrue(d.describe().contains("4 Orbax placeholders"), d.describe());
    }
  }

  @Test
  void missingDataShardIsRefusedForReadingButListed() throws Exception {
    Path dir = Fixtures.copyTo("t2t_transformer_test_ckpt", tmp);
    Path shard = dir.resolve("model.ckpt-1.data-00000-of-00002");
    Files.delete(shard);
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
        () -> CheckpointFormats.open(dir, Optional.empty()));
    assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("data shard 0 of 2 is missing"),
        e.getMessage());
    try (RenamingReader r = CheckpointFormats.list(dir, Optional.empty())) {
      CheckpointFormats.Detected d = CheckpointFormats.detected(r);
      assertEquals(List.of(shard), d.missingShards());
      assertFalse(d.readable());
      assertTrue(r.tensors().size() > 10, "listed from the index: " + r.tensors());
    }
  }
}
