package dev.upcycle.savedmodels.rest;

/** The two request layouts of TF Serving's predict API and the key each one's response uses. */
public enum RequestFormat {
  /** {@code "instances"}: one entry per example, every input batched along dimension 0. */
  ROW("instances", "predictions"),
  /** {@code "inputs"}: whole tensors, any shapes. */
  COLUMNAR("inputs", "outputs");

  private final String requestKey;
  private final String responseKey;

  RequestFormat(String requestKey, String responseKey) {
    this.requestKey = requestKey;
    this.responseKey = responseKey;
  }

  /** {@code instances} or {@code inputs}. */
  public String requestKey() {
    return requestKey;
  }

  /** {@code predictions} or {@code outputs}. */
  public String responseKey() {
    return responseKey;
  }
}
