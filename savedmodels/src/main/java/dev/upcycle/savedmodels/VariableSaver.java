package dev.upcycle.savedmodels;

import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.graph.VariableStore;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.train.Restore;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TFloating;
import org.tensorflow.types.family.TType;

/**
 * Adds save and restore ops for every variable of a store, under their canonical names, and
 * returns the {@link SaverDef} a SavedModel's MetaGraph carries. TensorFlow's loaders (TF Serving,
 * {@code SavedModelBundle.load}) run
 * {@code save/restore_all} with {@code variables/variables} fed as the file name.
 *
 * <p>Needed because TF Java 1.1.0's own saver only collects {@code VariableV2} ops, while the
 * model's variables are resource variables ({@code VarHandleOp}).
 */
final class VariableSaver {

  private VariableSaver() {}

  static <T extends TFloating> SaverDef addTo(Ops tf, VariableStore<T> store) {
    Ops sv = tf.withSubScope("save");
    Placeholder<TString> filename = sv.withName("filename").placeholder(TString.class,
        Placeholder.shape(Shape.scalar()));
    List<ModelVariable<T>> vars = store.variables();
    String[] names = vars.stream().map(ModelVariable::name).toArray(String[]::new);
    String[] slices = new String[names.length];
    java.util.Arrays.fill(slices, "");
    Operand<TString> tensorNames = sv.withName("tensor_names").constant(org.tensorflow.ndarray.StdArrays.ndCopyOf(names));
    Operand<TString> shapeAndSlices = sv.withName("shape_and_slices").constant(org.tensorflow.ndarray.StdArrays.ndCopyOf(slices));

    List<Operand<?>> values = new ArrayList<>();
    vars.forEach(v -> values.add(v.value()));
    Op save = sv.withName("save_all").train.save(filename, tensorNames, shapeAndSlices, values);
    Operand<TString> saveDone = sv.withControlDependencies(List.of(save)).withName("control_dependency")
        .identity(filename);

    List<Class<? extends TType>> dtypes = new ArrayList<>();
    vars.forEach(v -> dtypes.add(store.dtype()));
    Restore restore = sv.withName("restore").train.restore(filename, tensorNames, shapeAndSlices, dtypes);
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      assigns.add(sv.withName("assign_" + i).assignVariableOp(vars.get(i).handle(), restore.tensors().get(i)));
    }
    Op restoreAll = sv.withControlDependencies(assigns).withName("restore_all").noOp();
    return SaverDef.newBuilder()
        .setFilenameTensorName(filename.op().name() + ":0")
        .setSaveTensorName(saveDone.op().name() + ":0")
        .setRestoreOpName(restoreAll.op().name())
        .setMaxToKeep(5)
        .setKeepCheckpointEveryNHours(10000)
        .setVersion(SaverDef.CheckpointFormatVersion.V2)
        .build();
  }
}
