package dev.upcycle.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryCheckpointTest {

  private static RawTensor tensor(String name, float... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    b.flip();
    return new RawTensor(new TensorInfo(name, DType.FLOAT32, new long[] {values.length}), b);
  }

  @Test
  void listsSortedAndReadsTheHeldBytes() throws Exception {
    try (InMemoryCheckpoint c = new InMemoryCheckpoint("m", List.of(tensor("b", 1, 2), tensor("a", 3)))) {
      assertEquals(List.of("a", "b"), c.tensors().stream().map(TensorInfo::name).toList());
      assertArrayEquals(tensor("b", 1, 2).bytes(), c.read("b").bytes());
      assertEquals(InMemoryCheckpoint.FORMAT, c.format());
      CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> c.read("c"));
      assertTrue(e.getMessage().startsWith("in-memory:m: tensor 'c': no such tensor"), e.getMessage());
    }
  }

  @Test
  void twoTensorsOfOneNameAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new InMemoryCheckpoint("m", List.of(tensor("a", 1), tensor("a", 2, 3))));
    assertTrue(e.getMessage().contains("two tensors named a"), e.getMessage());
  }

  @Test
  void writerKeepsWhatWasCommittedAndNothingElse() throws Exception {
    InMemoryCheckpointWriter w = new InMemoryCheckpointWriter();
    w.write(tensor("x", 1));
    w.writeRepeated(new TensorInfo("y", DType.FLOAT32, new long[] {3, 2}), tensor("p", 4, 5), 3);
    assertThrows(IllegalStateException.class, w::tensors, "not committed yet");
    assertThrows(IllegalArgumentException.class, () -> w.write(tensor("x", 2)));
    w.commit();
    w.close();
    assertEquals(List.of("x", "y"), List.copyOf(w.tensors().keySet()));
    assertArrayEquals(tensor("y", 4, 5, 4, 5, 4, 5).bytes(), w.tensors().get("y").bytes());
    assertThrows(IllegalStateException.class, () -> w.write(tensor("z", 1)));

    InMemoryCheckpointWriter abandoned = new InMemoryCheckpointWriter();
    abandoned.write(tensor("x", 1));
    abandoned.close();
    assertThrows(IllegalStateException.class, abandoned::tensors);
  }
}
