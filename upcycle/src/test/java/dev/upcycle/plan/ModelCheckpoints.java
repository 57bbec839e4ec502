package dev.upcycle.plan;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleReader;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.arch.SyntheticBatch;
import dev.upcycle.model.graph.ModelVariable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/** Moves a model's variables between a TF session and a TF bundle, and runs its logits. */
final class ModelCheckpoints {

  private ModelCheckpoints() {}

  /** Every variable of the graph as a tensor (float32 bytes). */
  static List<RawTensor> variables(ModelGraph<TFloat32> g) {
    List<RawTensor> out = new ArrayList<>();
    for (ModelVariable<TFloat32> v : g.store.variables()) {
      try (TFloat32 t = g.store.fetch(g.session, v.name())) {
        byte[] bytes = new byte[(int) t.numBytes()];
        t.asRawTensor().data().read(bytes);
        out.add(new RawTensor(new TensorInfo(v.name(), DType.FLOAT32, v.shape()),
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)));
      }
    }
    return out;
  }

  /** Writes the variables (and {@code extra}) as the bundle {@code prefix}, its folder published atomically. */
  static void save(ModelGraph<TFloat32> g, Path prefix, List<RawTensor> extra) throws IOException {
    try (AtomicFolder out = AtomicFolder.stage(prefix.toAbsolutePath().getParent(), false);
        TfBundleWriter w = TfBundleWriter.create(out.path().resolve(prefix.getFileName()))) {
      for (RawTensor t : variables(g)) {
        w.write(t);
      }
      for (RawTensor t : extra) {
        w.write(t);
      }
      w.commit();
      out.commit();
    }
  }

  /** Loads every variable of the graph by name from the bundle at {@code path}. */
  static void load(ModelGraph<TFloat32> g, Path path) throws IOException {
    try (CheckpointReader r = TfBundleReader.open(path)) {
      for (ModelVariable<TFloat32> v : g.store.variables()) {
        RawTensor raw = r.read(v.name());
        try (TFloat32 t = Tensor.of(TFloat32.class, Shape.of(raw.info().shape()),
            DataBuffers.of(raw.bytes(), true, false))) {
          g.store.load(g.session, v.name(), t);
        }
      }
    }
  }

  /** The model's logits on a synthetic batch, flattened. */
  static float[] logits(ModelGraph<TFloat32> g, long batchSeed) {
    try (SyntheticBatch batch = new SyntheticBatch(g.spec, g.inputs, g.shape, batchSeed);
        var result = batch.feed(g.session.runner()).fetch(g.outputs.logits()).run()) {
      TFloat32 t = (TFloat32) result.get(0);
      float[] out = new float[(int) t.size()];
      t.asRawTensor().data().asFloats().read(out);
      return out;
    }
  }

  static RawTensor i64(String name, long value) {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
    return new RawTensor(new TensorInfo(name, DType.INT64, new long[0]), b);
  }

  /** max |a - b| / max |a|. */
  static double maxRelativeDifference(float[] a, float[] b) {
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
      maxAbs = Math.max(maxAbs, Math.abs(a[i]));
    }
    return maxDiff / maxAbs;
  }
}
