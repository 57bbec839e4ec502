package dev.upcycle.savedmodels.rest.batching;

import dev.upcycle.savedmodels.rest.HostTensor;
import dev.upcycle.savedmodels.rest.HostTensors;
import dev.upcycle.savedmodels.rest.PredictRequest;
import dev.upcycle.savedmodels.rest.ServedModel;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.tensorflow.proto.DataType;

/**
 * What requests must share to be merged into one batch: the loaded model (by identity: one version
 * folder, loaded once), the signature, and per input key the dtype and the shape after dimension 0.
 * TF Serving keys its queues by signature only and fails a whole batch whose requests' inner shapes
 * differ (without {@code pad_variable_length_inputs}); here such requests wait in different queues.
 *
 * @param inputs per input key: dtype and inner shape ({@code [d_1, …]} of {@code [n, d_1, …]})
 */
record BatchKey(ServedModel model, String signature, SortedMap<String, Input> inputs) {

  /** The dtype and inner shape of one input. */
  record Input(DataType dtype, List<Long> innerShape) {}

  BatchKey {
    inputs = Collections.unmodifiableSortedMap(new TreeMap<>(inputs));
  }

  /** The key of {@code request} (every input of rank ≥ 1) for {@code model}. */
  static BatchKey of(ServedModel model, PredictRequest request) {
    SortedMap<String, Input> inputs = new TreeMap<>();
    for (Map.Entry<String, HostTensor> e : request.inputs().entrySet()) {
      inputs.put(e.getKey(), new Input(e.getValue().dtype(),
          Arrays.stream(HostTensors.innerShape(e.getValue())).boxed().toList()));
    }
    return new BatchKey(model, request.signatureName(), inputs);
  }
}
