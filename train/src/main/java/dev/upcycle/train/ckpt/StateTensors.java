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

  /** The current value of one tensor. */
  RawTensor read(String name);

  /** Sets one tensor; {@code value} may be of another floating precision (converted). */
  void assign(String name, RawTensor value);
}
