package dev.upcycle.savedmodels.server;

import dev.upcycle.savedmodels.rest.ServedModel;

public interface PredictHandler {
  String predict(ServedModel model, byte[] body, String source);
}
