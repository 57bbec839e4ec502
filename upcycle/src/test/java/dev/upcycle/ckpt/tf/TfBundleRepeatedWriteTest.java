package dev.upcycle.ckpt.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tensor streamed as E copies reads back (CRC checked) equal to the same tensor written whole. */
class TfBundleRepeatedWriteTest {

  @Test
  void repeatedWriteEqualsTheTiledTensor(@TempDir Path dir) throws Exception {
    byte[] piece = new byte[3 * 5 * 4];
    new Random(3).nextBytes(piece);
    RawTensor dense = new RawTensor(new TensorInfo("w", DType.FLOAT32, new long[] {3, 5}), ByteBuffer.wrap(piece));
    TensorInfo tiled = new TensorInfo("expert/w", DType.FLOAT32, new long[] {4, 3, 5});
    byte[] expected = new byte[piece.length * 4];
    for (int e = 0; e < 4; e++) {
      System.arraycopy(piece, 0, expected, e * piece.length, piece.length);
    }
    Path prefix = Files.createDirectories(dir.resolve("out")).resolve("model.ckpt-1");
    try (TfBundleWriter w = TfBundleWriter.create(prefix, 100)) {
      w.writeRepeated(tiled, dense, 4);
      w.writeRepeated(tiled.withName("again/w"), dense, 4);
      assertThrows(IllegalArgumentException.class, () -> w.writeRepeated(tiled.withName("bad"), dense, 3));
      w.commit();
    }
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertArrayEquals(expected, r.read("expert/w").bytes());
      assertArrayEquals(expected, r.read("again/w").bytes());
    }
  }
}
