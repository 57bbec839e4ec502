package dev.upcycle.savedmodels.rest.batching;

import dev.upcycle.savedmodels.rest.HostTensor;
import dev.upcycle.savedmodels.rest.ServedModel;
import java.util.SortedMap;

/** Runs a signature on tensors: {@link ServedModel#run}, or a wrapper of it in tests. */
@FunctionalInterface
interface Runner {
  SortedMap<String, HostTensor> run(ServedModel model, String signature, SortedMap<String, HostTensor> inputs);
}
