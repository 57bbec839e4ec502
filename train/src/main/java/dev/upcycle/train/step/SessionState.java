package dev.upcycle.train.step;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.train.ckpt.StateTensors;
import dev.upcycle.train.ckpt.TensorBytes;
import dev.upcycle.train.optim.StateVariable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * The variables of a {@link TrainStep}'s session as checkpoint tensors: model weights (required
 * when restoring) followed by optimizer slots and {@code state/step} (optional).
 */
public final class SessionState implements StateTensors {

  private record Entry(TensorInfo info, Class<? extends TType> type, Operand<?> value, Placeholder<?> load,
      Op loadOp, boolean required) {}

  private final Session session;
  private final Map<String, Entry> entries = new LinkedHashMap<>();

  public <T extends TFloating> SessionState(TrainStep<T> step) {
    this.session = step.session();
    Class<T> dtype = step.model().store.dtype();
    for (ModelVariable<T> v : step.model().store.variables()) {
      entries.put(v.name(), new Entry(new TensorInfo(v.name(), TensorBytes.dtypeOf(dtype), v.shape()), dtype,
          v.value(), v.loadValue(), v.loadOp(), true));
    }
    for (StateVariable<?> v : step.state().variables()) {
      entries.put(v.name(), new Entry(new TensorInfo(v.name(), TensorBytes.dtypeOf(v.type()), v.shape()), v.type(),
          v.value(), v.loadValue(), v.loadOp(), false));
    }
  }

  @Override
  public List<TensorInfo> tensors() {
    List<TensorInfo> out = new ArrayList<>();
    entries.values().forEach(e -> out.add(e.info()));
    return out;
  }

  @Override
  public boolean required(String name) {
    return entry(name).required();
  }

  @Override
  public List<RawTensor> read(List<String> names) {
    Session.Runner runner = session.runner();
    names.forEach(n -> runner.fetch(entry(n).value()));
    try (Result r = runner.run()) {
      List<RawTensor> out = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        out.add(TensorBytes.toRaw(names.get(i), r.get(i)));
      }
      return out;
    }
  }

  @Override
  public void assign(List<RawTensor> values) {
    List<Tensor> tensors = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (RawTensor v : values) {
        Entry e = entry(v.name());
        Tensor t = TensorBytes.toTensor(v, e.type());
        tensors.add(t);
        runner.feed(e.load(), t).addTarget(e.loadOp());
      }
      runner.run();
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  private Entry entry(String name) {
    Entry e = entries.get(name);
    checkArgument(e != null, "no variable named %s in this train step", name);
    return e;
  }
}
