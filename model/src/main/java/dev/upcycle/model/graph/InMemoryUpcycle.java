package dev.upcycle.model.graph;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.model.names.CanonicalNames;
import java.util.Arrays;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.ByteDataBuffer;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.family.TFloating;

/**
 * Upcycles a dense model held in one session into an MoE model built in another, variable by
 * variable, with the rules of DESIGN.md §4: {@code .../mlp/expert/X} is the dense {@code .../mlp/X}
 * tiled along a new axis 0, the router keeps its fresh initialisation, everything else is copied.
 * For small models in tests and the demo; checkpoints on disk go through the streaming plan of the
 * {@code upcycle} module instead.
 */
public final class InMemoryUpcycle {

  private InMemoryUpcycle() {}

  /** The dense variable an MoE variable comes from, or null for the router (fresh). */
  public static String denseSource(String moeName) {
    return CanonicalNames.isRouter(moeName) ? null : CanonicalNames.denseOf(moeName);
  }

  /**
   * Copies every variable of {@code moe} from {@code dense}. Run {@code moe.initialize(moeSession)}
   * first so routers have their fresh values. Returns the number of variables copied.
   */
  public static <T extends TFloating> int apply(Session denseSession, VariableStore<T> dense, Session moeSession,
      VariableStore<T> moe) {
    int copied = 0;
    for (ModelVariable<T> target : moe.variables()) {
      String source = denseSource(target.name());
      if (source == null) {
        continue;
      }
      checkArgument(dense.contains(source), "MoE variable %s needs dense variable %s, which the dense model lacks",
          target.name(), source);
      long[] denseShape = dense.variable(source).shape();
      boolean tiled = !source.equals(target.name());
      long[] expected = tiled ? prepend(target.shape()[0], denseShape) : denseShape;
      checkArgument(Arrays.equals(expected, target.shape()), "variable %s: dense %s has shape %s; MoE expects %s",
          target.name(), source, Arrays.toString(denseShape), Arrays.toString(target.shape()));
      try (Tensor value = dense.fetch(denseSession, source)) {
        if (!tiled) {
          moe.load(moeSession, target.name(), value);
        } else {
          try (Tensor t = tile(value, (int) target.shape()[0], target.shape(), dense.dtype())) {
            moe.load(moeSession, target.name(), t);
          }
        }
      }
      copied++;
    }
    return copied;
  }

  private static long[] prepend(long first, long[] rest) {
    long[] out = new long[rest.length + 1];
    out[0] = first;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }

  private static <T extends TFloating> Tensor tile(Tensor value, int copies, long[] shape, Class<T> type) {
    long bytes = value.numBytes();
    ByteDataBuffer src = value.asRawTensor().data();
    ByteDataBuffer out = DataBuffers.ofBytes(bytes * copies);
    for (int e = 0; e < copies; e++) {
      src.copyTo(out.offset(bytes * e), bytes);
    }
    return Tensor.of(type, Shape.of(shape), out);
  }
}
