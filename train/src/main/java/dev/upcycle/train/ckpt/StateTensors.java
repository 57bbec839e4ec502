package dev.upcycle.train.ckpt;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.util.List;

/**
 * The tensors a checkpoint holds, seen from the training side: listed, read one at a time, and
 * assigned one at a time (so a checkpoint is never held in memory whole).
 */
public interface StateTensors {

  /** Every tensor by canonical name, with the dtype and shape the graph holds. */
  List<TensorInfo> tensors();

  /** True for names that must be present in a checkpoint that initialises a run (model weights). */
  boolean required(String name);

  /**
   * The current values of some tensors, in the order asked. Callers ask for groups of bounded
   * size (see {@link #groups}), so a checkpoint is never held in memory whole.
   */
  List<RawTensor> read(List<String> names);

  /** Sets some tensors; values may be of another floating precision (converted). */
  void assign(List<RawTensor> values);

  /**
   * Splits tensors into consecutive groups of at most {@code maxBytes} each (a larger tensor forms
   * a group of its own): one session run per group instead of one per tensor.
   */
  static List<List<TensorInfo>> groups(List<TensorInfo> tensors, long maxBytes) {
    List<List<TensorInfo>> out = new java.util.ArrayList<>();
    List<TensorInfo> cur = new java.util.ArrayList<>();
    long bytes = 0;
    for (TensorInfo t : tensors) {
      long size = Math.max(0, t.byteSize());
      if (!cur.isEmpty() && bytes + size > maxBytes) {
        out.add(cur);
        cur = new java.util.ArrayList<>();
        bytes = 0;
      }
      cur.add(t);
      bytes += size;
    }
    if (!cur.isEmpty()) {
      out.add(cur);
    }
    return out;
  }
}
