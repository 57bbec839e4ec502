package dev.upcycle.ckpt.tf;

import static dev.upcycle.ckpt.tf.Tensors.shape;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.Restore;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/** TF's own RestoreV2 reads what {@link TfBundleWriter} wrote, and {@link TfBundleReader} reads SaveV2's output. */
class TfBundleTensorFlowTest {

  @TempDir Path tmp;

  private static Class<? extends TType> tfType(DType d) {
    return switch (d) {
      case FLOAT32 -> TFloat32.class;
      case FLOAT64 -> TFloat64.class;
      case INT32 -> TInt32.class;
      case INT64 -> TInt64.class;
      case BFLOAT16 -> TBfloat16.class;
      default -> throw new IllegalArgumentException(d.toString());
    };
  }

  /** 300 tensors of the five dtypes: enough names for several index blocks, enough bytes for several shards. */
  private static List<RawTensor> manyTensors() {
    List<RawTensor> out = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String layer = String.format("encoder/layers_%02d/", i);
      out.add(Tensors.f32(layer + "mlp/wi/kernel", shape(8, 6), Tensors.floats(48, i)));
      out.add(Tensors.f64(layer + "pre_mlp_layer_norm/scale/.ATTRIBUTES/VARIABLE_VALUE", shape(3),
          1.0 / (i + 1), -Math.E * i, Double.MIN_VALUE));
      out.add(Tensors.i32(layer + "counts", shape(2), i, -i * 1000));
      out.add(Tensors.i64(layer + "step", shape(), (long) i << 40));
      out.add(Tensors.bf16(layer + "bf16/kernel", shape(2, 2), 1.5f, -i, 0.0078125f, 65536f));
    }
    out.add(Tensors.f32("scalar_f32", shape(), 0.25f));
    out.add(Tensors.f32("empty", shape(0, 3)));
    Collections.reverse(out); // any arrival order
    return out;
  }

  @Test
  void restoreV2ReadsEveryValueWeWrote() throws Exception {
    Path prefix = Files.createDirectories(tmp.resolve("ckpt")).resolve("model.ckpt-42");
    List<RawTensor> written = manyTensors();
    try (TfBundleWriter w = TfBundleWriter.create(prefix, 2_000)) {
      for (RawTensor t : written) {
        w.write(t);
      }
      w.commit();
    }
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertTrue(r.numShards() > 3, "shards " + r.numShards());
    }
    assertTrue(Files.size(tmp.resolve("ckpt/model.ckpt-42.index")) > 3 * TableWriter.DEFAULT_BLOCK_SIZE,
        "index spans several blocks");

    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      String[] names = written.stream().map(RawTensor::name).toArray(String[]::new);
      String[] slices = new String[names.length];
      Arrays.fill(slices, "");
      List<Class<? extends TType>> types = new ArrayList<>();
      for (RawTensor t : written) {
        types.add(tfType(t.info().dtype()));
      }
      Restore restore = tf.train.restore(tf.constant(prefix.toString()), tf.constant(UTF_8, names), tf.constant(UTF_8, slices), types);
      Session.Runner runner = s.runner();
      for (Operand<TType> o : restore) {
        runner.fetch(o);
      }
      try (Result result = runner.run()) {
        for (int i = 0; i < written.size(); i++) {
          RawTensor expected = written.get(i);
          Tensor got = result.get(i);
          assertArrayEquals(expected.info().shape(), got.shape().asArray(), expected.name());
          assertEquals(expected.info().dtype().tfEnum(), got.dataType().getNumber(), expected.name());
          assertSameValues(expected, tfBytes(got));
        }
        // One typed read through TF's own accessors, independent of byte interpretation.
        int k = indexOf(written, "encoder/layers_07/mlp/wi/kernel");
        assertEquals(Tensors.floats(48, 7)[1 * 6 + 4], ((TFloat32) result.get(k)).getFloat(1, 4));
        int b = indexOf(written, "encoder/layers_07/bf16/kernel");
        assertEquals(-7f, ((TBfloat16) result.get(b)).getFloat(0, 1));
      }
    }
  }

  @Test
  void weReadEveryValueSaveV2Wrote() throws Exception {
    Path prefix = tmp.resolve("tfsave/model.ckpt-9");
    Files.createDirectories(prefix.getParent());
    float[][] f32 = {{1.5f, -2f, 3.25f}, {Float.MIN_VALUE, Float.MAX_VALUE, -0f}};
    double[] f64 = {Math.PI, -1e300, 5e-324};
    int[] i32 = {Integer.MIN_VALUE, 0, 7, Integer.MAX_VALUE};
    long i64 = 1L << 53 | 1;
    float[] bf = {1f, -0.5f, 3.0e38f, 0.0078125f};
    byte[] bfBytes = new byte[2 * bf.length];
    for (int i = 0; i < bf.length; i++) {
      int bits = Float.floatToRawIntBits(bf[i]) >>> 16;
      bfBytes[2 * i] = (byte) bits;
      bfBytes[2 * i + 1] = (byte) (bits >>> 8);
    }
    float[] bfExact = new float[bf.length];
    for (int i = 0; i < bf.length; i++) {
      bfExact[i] = Float.intBitsToFloat(Float.floatToRawIntBits(bf[i]) & 0xFFFF0000);
    }
    int extra = 200; // many names so SaveV2's index has several (possibly Snappy-compressed) blocks
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<String> names = new ArrayList<>(List.of("dense/kernel", "dense/bias/.ATTRIBUTES/VARIABLE_VALUE",
          "ints", "global_step", "bf16/w", "empty"));
      List<Operand<?>> values = new ArrayList<>(List.of(tf.constant(f32), tf.constant(f64), tf.constant(i32),
          tf.constant(i64), tf.constant(TBfloat16.class, Shape.of(2, 2), DataBuffers.of(bfBytes, true, false)),
          tf.constant(Shape.of(0, 4), DataBuffers.of(new float[0], true, false))));
      for (int i = 0; i < extra; i++) {
        names.add(String.format("optimizer/state/param_states/encoder/layers_%03d/mlp/wi_0/kernel/v_row", i));
        values.add(tf.constant(new float[] {i, -i}));
      }
      String[] slices = new String[names.size()];
      Arrays.fill(slices, "");
      s.runner().addTarget(tf.train.save(tf.constant(prefix.toString()), tf.constant(UTF_8, names.toArray(String[]::new)),
          tf.constant(UTF_8, slices), values)).run();
    }
    try (TfBundleReader r = TfBundleReader.open(prefix)) {
      assertEquals(6 + extra, r.tensors().size());
      RawTensor empty = r.read("empty"); // zero bytes, CRC of nothing
      assertEquals(new TensorInfo("empty", DType.FLOAT32, new long[] {0, 4}), empty.info());
      assertEquals(0, empty.data().remaining());
      ByteBuffer k = r.read("dense/kernel").data();
      assertArrayEquals(new long[] {2, 3}, r.read("dense/kernel").info().shape());
      for (int i = 0; i < 6; i++) {
        assertEquals(f32[i / 3][i % 3], k.getFloat(4 * i));
      }
      ByteBuffer d = r.read("dense/bias/.ATTRIBUTES/VARIABLE_VALUE").data();
      for (int i = 0; i < f64.length; i++) {
        assertEquals(f64[i], d.getDouble(8 * i));
      }
      ByteBuffer n = r.read("ints").data();
      for (int i = 0; i < i32.length; i++) {
        assertEquals(i32[i], n.getInt(4 * i));
      }
      RawTensor step = r.read("global_step");
      assertEquals(new TensorInfo("global_step", DType.INT64, new long[0]), step.info());
      assertEquals(i64, step.data().getLong(0));
      RawTensor bt = r.read("bf16/w");
      assertEquals(DType.BFLOAT16, bt.info().dtype());
      for (int i = 0; i < bf.length; i++) {
        assertEquals(bfExact[i], Float.intBitsToFloat((bt.data().getShort(2 * i) & 0xFFFF) << 16));
      }
      for (int i = 0; i < extra; i++) {
        ByteBuffer v = r.read(String.format("optimizer/state/param_states/encoder/layers_%03d/mlp/wi_0/kernel/v_row", i)).data();
        assertEquals(i, v.getFloat(0));
        assertEquals(-i, v.getFloat(4));
      }
    }
  }

  private static int indexOf(List<RawTensor> list, String name) {
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).name().equals(name)) {
        return i;
      }
    }
    throw new AssertionError(name);
  }

  private static ByteBuffer tfBytes(Tensor t) {
    org.tensorflow.RawTensor raw = t.asRawTensor();
    byte[] b = new byte[(int) raw.numBytes()];
    raw.data().read(b);
    return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
  }

  /** Compares element by element as values of the dtype (floats by bits, so -0 and NaN count). */
  private static void assertSameValues(RawTensor expected, ByteBuffer got) {
    ByteBuffer e = expected.data();
    long n = expected.info().numElements();
    assertEquals(expected.info().byteSize(), got.remaining(), expected.name());
    for (int i = 0; i < n; i++) {
      String where = expected.name() + "[" + i + "]";
      switch (expected.info().dtype()) {
        case FLOAT32 -> assertEquals(Float.floatToRawIntBits(e.getFloat(4 * i)), Float.floatToRawIntBits(got.getFloat(4 * i)), where);
        case FLOAT64 -> assertEquals(Double.doubleToRawLongBits(e.getDouble(8 * i)), Double.doubleToRawLongBits(got.getDouble(8 * i)), where);
        case INT32 -> assertEquals(e.getInt(4 * i), got.getInt(4 * i), where);
        case INT64 -> assertEquals(e.getLong(8 * i), got.getLong(8 * i), where);
        case BFLOAT16 -> assertEquals(e.getShort(2 * i), got.getShort(2 * i), where);
        default -> throw new AssertionError(where);
      }
    }
  }
}
