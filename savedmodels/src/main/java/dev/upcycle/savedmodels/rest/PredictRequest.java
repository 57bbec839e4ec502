package dev.upcycle.savedmodels.rest;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A predict request read from JSON, the role of TF Serving's {@code PredictRequest} proto: the
 * signature to run (the default already filled in), the layout the request used (which decides the
 * layout of the response) and one tensor per signature input key, sorted by key.
 */
public record PredictRequest(String signatureName, RequestFormat format, SortedMap<String, HostTensor> inputs) {

  public PredictRequest {
    checkNotNull(signatureName, "signatureName");
    checkNotNull(format, "format");
    inputs = Collections.unmodifiableSortedMap(new TreeMap<>(inputs));
  }

  static PredictRequest of(String signatureName, RequestFormat format, Map<String, HostTensor> inputs) {
    return new PredictRequest(signatureName, format, new TreeMap<>(inputs));
  }
}
