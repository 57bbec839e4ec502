package dev.upcycle.savedmodels;

import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.graph.ModelVariable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.types.TFloat32;

/** Test helpers: a graph's weights as tensors for a checkpoint, and a plain-Java log-softmax. */
final class GraphWeights {

  private GraphWeights() {}

  /** Every variable of {@code g} as float32 bytes under its canonical name. */
  static List<RawTensor> of(ModelGraph<TFloat32> g) {
    List<RawTensor> out = new ArrayList<>();
    for (ModelVariable<TFloat32> v : g.store.variables()) {
      try (TFloat32 t = g.store.fetch(g.session, v.name())) {
        byte[] bytes = new byte[(int) t.numBytes()];
        t.asRawTensor().data().read(bytes);
        out.add(new RawTensor(new TensorInfo(v.name(), DType.FLOAT32, v.shape()), ByteBuffer.wrap(bytes)));
      }
    }
    return out;
  }

  /** log softmax(row)[target], in double. */
  static double logSoftmax(float[] row, int target) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : row) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (float v : row) {
      sum += Math.exp(v - max);
    }
    return row[target] - max - Math.log(sum);
  }
}
