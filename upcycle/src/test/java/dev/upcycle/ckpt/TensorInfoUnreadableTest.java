package dev.upcycle.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link TensorInfo#unreadable}: listed under the format's dtype name, kept by renames, no byte size. */
class TensorInfoUnreadableTest {

  @Test
  void unreadableKeepsItsStoredName() {
    TensorInfo t = TensorInfo.unreadable("a", "F8_E4M3", new long[] {2, 3});
    assertEquals(DType.UNREADABLE, t.dtype());
    assertEquals("F8_E4M3", t.storedDtype());
    assertEquals("F8_E4M3", t.dtypeName());
    assertEquals("b F8_E4M3[2, 3]", t.withName("b").toString());
    assertEquals(-1, t.byteSize());
    assertNotEquals(t, TensorInfo.unreadable("a", "U16", new long[] {2, 3}));
    assertEquals(t.hashCode(), TensorInfo.unreadable("a", "F8_E4M3", new long[] {2, 3}).hashCode());
    assertNull(new TensorInfo("a", DType.FLOAT32, new long[0]).storedDtype());
    assertEquals("float32", new TensorInfo("a", DType.FLOAT32, new long[0]).dtypeName());
  }

  @Test
  void aStoredNameOnlyForUnreadable() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TensorInfo("a", DType.FLOAT32, new long[0], "F32"));
    assertEquals("tensor a: a stored dtype name ('F32') is only kept for unreadable tensors, not FLOAT32", e.getMessage());
  }

  @Test
  void unreadableIsNoTensorFlowType() {
    assertNull(DType.fromTfEnum(-1));
    assertEquals(DType.FLOAT32, DType.fromTfEnum(1));
  }
}
