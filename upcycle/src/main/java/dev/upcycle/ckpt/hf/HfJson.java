package dev.upcycle.ckpt.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.ckpt.CheckpointFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of a Hugging Face {@code config.json} object with the transformers defaults a key
 * takes when {@code save_pretrained} left it out; every error names the file, the key, the value
 * found and what is expected.
 */
final class HfJson {

  private final Path file;
  private final JsonNode root;

  HfJson(Path file, JsonNode root) {
    this.file = file;
    this.root = root;
  }

  Path file() {
    return file;
  }

  boolean has(String key) {
    return root.hasNonNull(key);
  }

  JsonNode node(String key) {
    return root.get(key);
  }

  /** A positive integer; {@code fallback} when absent. */
  int positiveInt(String key, int fallback) throws CheckpointFormatException {
    if (!has(key)) {
      return fallback;
    }
    JsonNode v = root.get(key);
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1) {
      throw refuse(key, "a positive integer");
    }
    return v.intValue();
  }

  /** A positive integer or a list of equal positive integers ({@code [224, 224]}); {@code fallback} when absent. */
  int squareSize(String key, int fallback) throws CheckpointFormatException {
    if (has(key) && root.get(key).isArray()) {
      JsonNode v = root.get(key);
      if (v.size() != 2 || !v.get(0).isIntegralNumber() || v.get(0).intValue() < 1 || !v.get(0).equals(v.get(1))) {
        throw refuse(key, "a positive integer or two equal ones (our ViT takes square images and patches)");
      }
      return v.get(0).intValue();
    }
    return positiveInt(key, fallback);
  }

  /** A number in [0, 1); {@code fallback} when absent. */
  double rate(String key, double fallback) throws CheckpointFormatException {
    if (!has(key)) {
      return fallback;
    }
    JsonNode v = root.get(key);
    if (!v.isNumber() || v.doubleValue() < 0 || v.doubleValue() >= 1) {
      throw refuse(key, "a rate in [0, 1)");
    }
    return v.doubleValue();
  }

  /** A positive number; {@code fallback} when absent. */
  double positive(String key, double fallback) throws CheckpointFormatException {
    if (!has(key)) {
      return fallback;
    }
    JsonNode v = root.get(key);
    if (!v.isNumber() || v.doubleValue() <= 0) {
      throw refuse(key, "a positive number");
    }
    return v.doubleValue();
  }

  /** A string; {@code fallback} when absent. */
  String string(String key, String fallback) throws CheckpointFormatException {
    if (!has(key)) {
      return fallback;
    }
    JsonNode v = root.get(key);
    if (!v.isTextual()) {
      throw refuse(key, "a string");
    }
    return v.textValue();
  }

  /** A boolean; {@code fallback} when absent. */
  boolean bool(String key, boolean fallback) throws CheckpointFormatException {
    if (!has(key)) {
      return fallback;
    }
    JsonNode v = root.get(key);
    if (!v.isBoolean()) {
      throw refuse(key, "true or false");
    }
    return v.booleanValue();
  }

  /** A list of strings; empty when absent. */
  List<String> strings(String key) throws CheckpointFormatException {
    List<String> out = new ArrayList<>();
    if (!has(key)) {
      return out;
    }
    JsonNode v = root.get(key);
    if (!v.isArray()) {
      throw refuse(key, "a list of strings");
    }
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw refuse(key, "a list of strings");
      }
      out.add(e.textValue());
    }
    return out;
  }

  /** The error for {@code key} holding what it holds, where {@code expected} was. */
  CheckpointFormatException refuse(String key, String expected) {
    return refuse(key, root.get(key), expected);
  }

  /** The error for {@code key} holding {@code value} (as JSON), where {@code expected} was. */
  CheckpointFormatException refuse(String key, JsonNode value, String expected) {
    return new CheckpointFormatException(file, null, "key '" + key + "' is " + value + "; expected " + expected);
  }

  /** The error for an absent {@code key} whose transformers default {@code fallback} (JSON) is refused. */
  CheckpointFormatException absent(String key, String fallback, String expected) {
    return new CheckpointFormatException(file, null, "key '" + key + "' is absent (transformers' default "
        + fallback + "); expected " + expected);
  }
}
