package dev.upcycle.train.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

class TensorBytesTest {

  private static RawTensor raw(String name, DType d, long[] shape, ByteBuffer b) {
    b.flip();
    return new RawTensor(new TensorInfo(name, d, shape), b);
  }

  @Test
  void float32RoundTripsBytewise() {
    ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).putFloat(3e-8f);
    RawTensor r = raw("w", DType.FLOAT32, new long[] {3}, b);
    try (TFloat32 t = TensorBytes.toTensor(r, TFloat32.class)) {
      assertEquals(-2f, t.getFloat(1));
      assertArrayEquals(r.bytes(), TensorBytes.toRaw("w", t).bytes());
      assertEquals(DType.FLOAT32, TensorBytes.toRaw("w", t).info().dtype());
    }
  }

  @Test
  void bfloat16AndFloat16AreWidened() {
    // bfloat16 of 1.5 = 0x3FC0; float16 of -2.5 = 0xC100, of 2^-24 (subnormal) = 0x0001
    ByteBuffer bf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3FC0)
        .putShort((short) 0xC040);
    try (TFloat32 t = TensorBytes.toTensor(raw("b", DType.BFLOAT16, new long[] {2}, bf), TFloat32.class)) {
      assertEquals(1.5f, t.getFloat(0));
      assertEquals(-3f, t.getFloat(1));
    }
    ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0xC100)
        .putShort((short) 0x0001);
    try (TFloat32 t = TensorBytes.toTensor(raw("h", DType.FLOAT16, new long[] {2}, h), TFloat32.class)) {
      assertEquals(-2.5f, t.getFloat(0));
      assertEquals((float) Math.pow(2, -24), t.getFloat(1));
    }
  }

  @Test
  void stepCountersConvertOnlyWhenIntegral() {
    ByteBuffer l = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(123456);
    try (TInt32 t = TensorBytes.toTensor(raw("state/step", DType.INT64, new long[0], l), TInt32.class)) {
      assertEquals(123456, t.getInt());
    }
    ByteBuffer f = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(2.5f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TensorBytes.toTensor(raw("state/step", DType.FLOAT32, new long[0], f), TInt32.class));
    assertTrue(e.getMessage().contains("state/step"), e.getMessage());
  }
}
