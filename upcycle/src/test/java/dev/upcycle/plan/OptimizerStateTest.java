package dev.upcycle.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.model.T5Config;
import dev.upcycle.synthetic.SyntheticCheckpoint;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Optimizer state under COPY (tiled slots, zero router slots) and RESET (dropped); the step is carried. */
class OptimizerStateTest {

  private static final T5Config TINY = new T5Config(8, 16, 2, 4, 2, 2, 32, 8, 16, 0.0);
  private static final int E = 3;

  @TempDir Path tmp;

  private Path convert(SyntheticCheckpoint.Slots slots, UpcycleOptions.OptimizerState state) throws Exception {
    Path from = tmp.resolve("dense-" + slots);
    SyntheticCheckpoint.writeT5(from.resolve("model.ckpt-77"), TINY, DType.FLOAT32, slots, 77, 3);
    Path to = tmp.resolve("moe-" + slots + "-" + state);
    ConvertJob.run(from, to, UpcycleOptions.defaults(E).withOptimizerState(state), Optional.empty(), false, false,
        ProgressListener.NONE);
    return to;
  }

  private static void assertTiled(CheckpointReader dense, CheckpointReader moe, String denseName, String moeName)
      throws Exception {
    RawTensor d = dense.read(denseName);
    RawTensor m = moe.read(moeName);
    long[] want = PlanBuilder.prepend(E, d.info().shape());
    assertArrayEquals(want, m.info().shape(), moeName);
    byte[] db = d.bytes();
    byte[] mb = m.bytes();
    for (int e = 0; e < E; e++) {
      assertArrayEquals(db, Arrays.copyOfRange(mb, e * db.length, (e + 1) * db.length), moeName + " expert " + e);
    }
  }

  private static boolean allZero(RawTensor t) {
    ByteBuffer b = t.data();
    while (b.hasRemaining()) {
      if (b.get() != 0) {
        return false;
      }
    }
    return true;
  }

  @Test
  void adamSlotsAreTiledAndRouterSlotsAreFreshZeros() throws Exception {
    Path to = convert(SyntheticCheckpoint.Slots.ADAM, UpcycleOptions.OptimizerState.COPY);
    try (CheckpointReader dense = TfBundleReader.open(tmp.resolve("dense-ADAM"));
        CheckpointReader moe = TfBundleReader.open(to)) {
      for (String stack : new String[] {"encoder", "decoder"}) {
        String p = stack + "/layers_1/mlp/";
        for (String param : new String[] {"wi_0/kernel", "wi_1/kernel", "wo/kernel"}) {
          for (String slot : new String[] {"m", "v"}) {
            assertTiled(dense, moe, "state/param_states/" + p + param + "/" + slot,
                "state/param_states/" + p + "expert/" + param + "/" + slot);
          }
        }
        for (String slot : new String[] {"m", "v"}) {
          RawTensor r = moe.read("state/param_states/" + p + "router/router_weights/w/kernel/" + slot);
          assertArrayEquals(new long[] {8, E}, r.info().shape());
          assertTrue(allZero(r), "router slot " + slot + " is zeros");
        }
        // dense layer 0 keeps its slots as they are
        assertArrayEquals(dense.read("state/param_states/" + stack + "/layers_0/mlp/wo/kernel/m").bytes(),
            moe.read("state/param_states/" + stack + "/layers_0/mlp/wo/kernel/m").bytes());
      }
      assertEquals(77, moe.read("state/step").data().getLong(0));
      assertFalse(moe.tensors().stream().anyMatch(t -> t.name().startsWith("state/param_states/encoder/layers_1/mlp/wi_0")));
    }
  }

  @Test
  void adafactorFactoredSlotsAreTiled() throws Exception {
    Path to = convert(SyntheticCheckpoint.Slots.ADAFACTOR, UpcycleOptions.OptimizerState.COPY);
    try (CheckpointReader dense = TfBundleReader.open(tmp.resolve("dense-ADAFACTOR"));
        CheckpointReader moe = TfBundleReader.open(to)) {
      String p = "encoder/layers_1/mlp/";
      for (String param : new String[] {"wi_0/kernel", "wi_1/kernel", "wo/kernel"}) {
        for (String slot : new String[] {"v_row", "v_col"}) {
          assertTiled(dense, moe, "state/param_states/" + p + param + "/" + slot,
              "state/param_states/" + p + "expert/" + param + "/" + slot);
        }
      }
      assertArrayEquals(new long[] {E, 8},
          moe.read("state/param_states/" + p + "expert/wi_0/kernel/v_row").info().shape());
      assertArrayEquals(new long[] {E, 16},
          moe.read("state/param_states/" + p + "expert/wi_0/kernel/v_col").info().shape());
      RawTensor vr = moe.read("state/param_states/" + p + "router/router_weights/w/kernel/v_row");
      RawTensor vc = moe.read("state/param_states/" + p + "router/router_weights/w/kernel/v_col");
      assertArrayEquals(new long[] {8}, vr.info().shape());
      assertArrayEquals(new long[] {E}, vc.info().shape());
      assertTrue(allZero(vr) && allZero(vc));
      assertEquals(77, moe.read("state/step").data().getLong(0));
    }
  }

  @Test
  void resetDropsSlotsButCarriesTheStep() throws Exception {
    Path to = convert(SyntheticCheckpoint.Slots.ADAFACTOR, UpcycleOptions.OptimizerState.RESET);
    try (CheckpointReader moe = TfBundleReader.open(to)) {
      assertEquals(java.util.List.of("state/step"),
          moe.tensors().stream().map(TensorInfo::name).filter(n -> n.startsWith("state/")).toList());
      assertEquals(77, moe.read("state/step").data().getLong(0));
      assertTrue(moe.tensors().stream().anyMatch(t -> t.name().equals("encoder/layers_1/mlp/expert/wo/kernel")));
    }
  }
}
