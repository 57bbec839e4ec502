package dev.upcycle.ckpt.hf;

import static dev.upcycle.ckpt.hf.SafetensorsReaderTest.f32;
import static dev.upcycle.ckpt.hf.SafetensorsReaderTest.le;
import static dev.upcycle.ckpt.hf.SafetensorsReaderTest.shorts;
import static dev.upcycle.ckpt.hf.SafetensorsTestWriter.raw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/** Hugging Face {@code flax_model.msgpack}: nested parameter dicts of flax ndarray extensions. */
class HfFlaxReaderTest {

  @TempDir Path tmp;

  private static final String Q = "encoder/block/0/layer/0/SelfAttention/q/kernel";

  private static List<RawTensor> tensors() {
    return List.of(
        raw(Q, DType.FLOAT32, new long[] {2, 3}, f32(1, 2, 3, 4, 5, 6)),
        raw("encoder/block/0/layer/0/layer_norm/weight", DType.BFLOAT16, new long[] {3}, shorts(0x3F80, 0x0001, 0x7FC1)),
        raw("shared/embedding", DType.FLOAT16, new long[] {2, 2}, shorts(0x3C00, 0x0001, 0x7E01, 0x8000)),
        raw("decoder/f64", DType.FLOAT64, new long[] {1}, le(8).putDouble(Math.E).array()),
        raw("decoder/i32", DType.INT32, new long[] {2}, le(8).putInt(-5).putInt(7).array()),
        raw("decoder/i64", DType.INT64, new long[] {1}, le(8).putLong(Long.MIN_VALUE).array()),
        raw("decoder/empty", DType.FLOAT32, new long[] {0, 3}, new byte[0]),
        raw("decoder/scalar", DType.FLOAT32, new long[0], f32(0.5f)));
  }

  @Test
  void everyDtypeRoundTripsBitExactUnderItsPath() throws Exception {
    for (boolean numpyScalars : new boolean[] {false, true}) {
      Path f = Files.write(tmp.resolve("flax_model.msgpack"), FlaxMsgpackTestWriter.bytes(tensors(), numpyScalars));
      try (HfFlaxReader r = HfFlaxReader.open(f)) {
        assertEquals(HfFlaxReader.FORMAT, r.format());
        assertEquals(f, r.source());
        assertEquals(tensors().stream().map(RawTensor::info).sorted((a, b) -> a.name().compareTo(b.name())).toList(),
            r.tensors());
        for (RawTensor t : tensors()) {
          RawTensor got = r.read(t.name());
          assertEquals(t.info(), got.info());
          assertArrayEquals(t.bytes(), got.bytes(), t.name());
        }
      }
    }
  }

  @Test
  void aStringLeafIsRefusedNamingIt() throws Exception {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    p.packMapHeader(1).packString("encoder").packMapHeader(1).packString("note").packString("hello");
    Path f = Files.write(tmp.resolve("flax_model.msgpack"), p.toByteArray());
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> HfFlaxReader.open(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("encoder/note: string leaf 'hello'"),
        e.getMessage());
  }

  @Test
  void aTruncatedFileIsNamed() throws Exception {
    byte[] full = FlaxMsgpackTestWriter.bytes(tensors(), false);
    Path f = Files.write(tmp.resolve("flax_model.msgpack"), Arrays.copyOf(full, full.length - 5));
    CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> HfFlaxReader.open(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated or corrupt"), e.getMessage());
  }

  @Test
  void topLevelKeysThatT5xWouldInterpretAreOrdinaryParameters() throws Exception {
    List<RawTensor> in = List.of(raw("optimizer/kernel", DType.FLOAT32, new long[] {1}, f32(1)),
        raw("version", DType.INT32, new long[0], le(4).putInt(3).array()));
    Path f = Files.write(tmp.resolve("flax_model.msgpack"), FlaxMsgpackTestWriter.bytes(in, false));
    try (HfFlaxReader r = HfFlaxReader.open(f)) {
      assertEquals(List.of("optimizer/kernel", "version"), r.tensors().stream().map(TensorInfo::name).toList());
    }
  }
}
