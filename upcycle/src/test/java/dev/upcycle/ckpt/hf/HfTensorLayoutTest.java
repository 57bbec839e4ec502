package dev.upcycle.ckpt.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The layout transforms move whole elements for every floating dtype: bfloat16 and float16 as
 * 2-byte, float32 as 4-byte, float64 as 8-byte elements; the expected bytes come from index loops
 * over element numbers, not from {@link HfTensorLayout}.
 */
class HfTensorLayoutTest {

  private static final DType[] FLOATS = {DType.BFLOAT16, DType.FLOAT16, DType.FLOAT32, DType.FLOAT64};

  /** Random bytes for {@code n} elements of {@code dtype}. */
  private static byte[] randomBytes(DType dtype, int n, long seed) {
    byte[] b = new byte[n * dtype.byteSize()];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static RawTensor tensor(String name, DType dtype, long[] shape, byte[] bytes) {
    return new RawTensor(new TensorInfo(name, dtype, shape), ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
  }

  private static void copyElement(byte[] from, int fromIndex, byte[] to, int toIndex, int size) {
    System.arraycopy(from, fromIndex * size, to, toIndex * size, size);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16", "FLOAT32", "FLOAT64"})
  void transpose2dMovesWholeElements(DType dtype) {
    int out = 5;
    int in = 3;
    int size = dtype.byteSize();
    byte[] weight = randomBytes(dtype, out * in, 7); // PyTorch [out, in]
    byte[] want = new byte[weight.length]; // kernel [in, out]
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        copyElement(weight, o * in + i, want, i * out + o, size);
      }
    }
    RawTensor got = HfTensorLayout.TRANSPOSE_2D.apply(tensor("w", dtype, new long[] {out, in}, weight), "k");
    assertEquals(new TensorInfo("k", dtype, new long[] {in, out}), got.info());
    assertArrayEquals(want, got.bytes());
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16", "FLOAT32", "FLOAT64"})
  void oihwBecomesHwio(DType dtype) {
    int o = 4;
    int c = 3;
    int kh = 2;
    int kw = 5; // kh != kw so a swapped H/W shows
    int size = dtype.byteSize();
    byte[] conv = randomBytes(dtype, o * c * kh * kw, 11);
    byte[] want = new byte[conv.length];
    for (int a = 0; a < o; a++) {
      for (int b = 0; b < c; b++) {
        for (int h = 0; h < kh; h++) {
          for (int w = 0; w < kw; w++) {
            copyElement(conv, ((a * c + b) * kh + h) * kw + w, want, ((h * kw + w) * c + b) * o + a, size);
          }
        }
      }
    }
    RawTensor got = HfTensorLayout.OIHW_TO_HWIO.apply(tensor("conv", dtype, new long[] {o, c, kh, kw}, conv), "k");
    assertEquals(new TensorInfo("k", dtype, new long[] {kh, kw, c, o}), got.info());
    assertArrayEquals(want, got.bytes());
  }

  @ParameterizedTest
  @EnumSource(value = HfTensorLayout.class)
  void theLayoutsKeepDtypeAndRefuseTheWrongRank(HfTensorLayout layout) {
    for (DType dtype : FLOATS) {
      long[] shape = layout.rank() == 4 ? new long[] {2, 3, 1, 1} : new long[] {2, 3};
      byte[] bytes = randomBytes(dtype, 6, 3);
      RawTensor got = layout.apply(tensor("x", dtype, shape, bytes), "y");
      assertEquals(dtype, got.info().dtype());
      assertEquals(bytes.length, got.bytes().length);
    }
    if (layout.rank() > 0) {
      RawTensor vector = tensor("v", DType.BFLOAT16, new long[] {6}, randomBytes(DType.BFLOAT16, 6, 5));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layout.apply(vector, "y"));
      assertEquals(true, e.getMessage().contains("rank-" + layout.rank()), e.getMessage());
    }
  }
}
