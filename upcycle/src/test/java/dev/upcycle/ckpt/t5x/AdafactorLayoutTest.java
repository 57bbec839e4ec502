package dev.upcycle.ckpt.t5x;

import static dev.upcycle.ckpt.t5x.TestMsgpack.map;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** T5X's Adafactor layout: which [1] slots are placeholders, which a writer adds, and a reader that hides them. */
class AdafactorLayoutTest {

  @TempDir Path tmp;

  private static TensorInfo f32(String name, long... shape) {
    return new TensorInfo(name, DType.FLOAT32, shape);
  }

  private static String slot(String param, String slot) {
    return "state/param_states/" + param + "/" + slot;
  }

  @Test
  void factoredWithoutMomentumHasPlaceholderVAndM() {
    List<TensorInfo> stored = List.of(f32("target/a/kernel", 8, 16), f32(slot("a/kernel", "v_row"), 8),
        f32(slot("a/kernel", "v_col"), 16), f32(slot("a/kernel", "v"), 1), f32(slot("a/kernel", "m"), 1));
    assertEquals(Set.of(slot("a/kernel", "v"), slot("a/kernel", "m")), AdafactorLayout.placeholders(stored));
  }

  @Test
  void unfactoredWithMomentumHasPlaceholderRowAndColumn() {
    List<TensorInfo> stored = List.of(f32("target/norm/scale", 8), f32(slot("norm/scale", "v"), 8),
        f32(slot("norm/scale", "m"), 8), f32(slot("norm/scale", "v_row"), 1), f32(slot("norm/scale", "v_col"), 1));
    assertEquals(Set.of(slot("norm/scale", "v_row"), slot("norm/scale", "v_col")),
        AdafactorLayout.placeholders(stored));
  }

  @Test
  void aParameterOfShapeOneKeepsItsRealVAndMomentum() {
    // v and m of a [1] parameter are real; v_row and v_col cannot be (rank 1 is never factored)
    List<TensorInfo> stored = List.of(f32("target/gate", 1), f32(slot("gate", "v"), 1), f32(slot("gate", "m"), 1),
        f32(slot("gate", "v_row"), 1), f32(slot("gate", "v_col"), 1));
    assertEquals(Set.of(slot("gate", "v_row"), slot("gate", "v_col")), AdafactorLayout.placeholders(stored));
  }

  @Test
  void withoutTheParameterShapesOfTheOtherSlotsDecide() {
    List<TensorInfo> factored = List.of(f32(slot("k", "v_row"), 8), f32(slot("k", "v_col"), 16),
        f32(slot("k", "v"), 1), f32(slot("k", "m"), 1));
    assertEquals(Set.of(slot("k", "v")), AdafactorLayout.placeholders(factored), "m [1] kept: shape unknown");
    List<TensorInfo> unfactored = List.of(f32(slot("k", "v"), 4, 4), f32(slot("k", "m"), 1),
        f32(slot("k", "v_row"), 1), f32(slot("k", "v_col"), 1));
    assertEquals(Set.of(slot("k", "m"), slot("k", "v_row"), slot("k", "v_col")),
        AdafactorLayout.placeholders(unfactored), "a real v gives the parameter's shape");
  }

  @Test
  void canonicalStateHasNoPlaceholders() {
    List<TensorInfo> stored = List.of(f32("target/a/kernel", 8, 16), f32(slot("a/kernel", "v_row"), 8),
        f32(slot("a/kernel", "v_col"), 16), f32("target/s", 8), f32(slot("s", "v"), 8), f32(slot("s", "m"), 8));
    assertEquals(Set.of(), AdafactorLayout.placeholders(stored));
  }

  @Test
  void missingCompletesEachParameterToFourSlots() {
    List<TensorInfo> written = List.of(f32(slot("a/kernel", "v_row"), 8), f32(slot("a/kernel", "v_col"), 16),
        f32(slot("s", "v"), 8), f32(slot("s", "m"), 8), new TensorInfo("state/step", DType.INT64, new long[0]));
    List<TensorInfo> missing = AdafactorLayout.missing(written);
    assertEquals(List.of(slot("a/kernel", "m"), slot("a/kernel", "v"), slot("s", "v_col"), slot("s", "v_row")),
        missing.stream().map(TensorInfo::name).toList());
    for (TensorInfo t : missing) {
      assertEquals(DType.FLOAT32, t.dtype(), t.name());
      assertArrayEquals(new long[] {1}, t.shape(), t.name());
    }
    assertEquals(List.of(), AdafactorLayout.missing(List.of(new TensorInfo("state/step", DType.INT64, new long[0]))));
  }

  @Test
  void missingRefusesStateT5xCannotRestore() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AdafactorLayout.missing(List.of(f32(slot("a/kernel", "v_row"), 8))));
    assertTrue(e.getMessage().contains("a/kernel") && e.getMessage().contains("v_col"), e.getMessage());
  }

  /** A checkpoint T5X itself would write (placeholders as inline [1] float32 arrays) reads as canonical state. */
  @Test
  void readerLeavesOutThePlaceholdersOfAHandBuiltT5xCheckpoint() throws Exception {
    byte[] one = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0f).array();
    byte[] row = new byte[4 * 3];
    byte[] col = new byte[4 * 2];
    byte[] kernel = new byte[4 * 6];
    var placeholder = TestMsgpack.ndarray(1, new long[] {1}, "float32", one);
    Object tree = map("version", 3L, "optimizer", map(
        "target", map("dense", map("kernel", TestMsgpack.ndarray(1, new long[] {3, 2}, "float32", kernel))),
        "state", map("step", TestMsgpack.ndarray(3, new long[0], "int32", new byte[4]),
            "param_states", map("dense", map("kernel", map(
                "v_row", TestMsgpack.ndarray(1, new long[] {3}, "float32", row),
                "v_col", TestMsgpack.ndarray(1, new long[] {2}, "float32", col),
                "v", placeholder, "m", placeholder))))));
    Path dir = tmp.resolve("checkpoint_5");
    java.nio.file.Files.createDirectories(dir);
    TestMsgpack.write(dir.resolve("checkpoint"), tree);
    try (T5xCheckpointReader r = T5xCheckpointReader.open(dir)) {
      assertEquals(List.of("state/param_states/dense/kernel/v_col", "state/param_states/dense/kernel/v_row",
          "state/step", "target/dense/kernel"), r.tensors().stream().map(TensorInfo::name).toList());
      assertEquals(Set.of("state/param_states/dense/kernel/m", "state/param_states/dense/kernel/v"),
          r.unusedAdafactorSlots());
      assertArrayEquals(one, r.read("state/param_states/dense/kernel/v").bytes(), "still readable by name");
    }
  }
}
