package dev.upcycle.savedmodels;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.savedmodels.JsonTensors.Spec;
import dev.upcycle.savedmodels.JsonTensors.Values;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * TF Serving's REST {@code predict} API (DESIGN.md §7) run in-process on a loaded SavedModel, so a
 * payload tested here works unchanged against {@code POST /v1/models/<name>:predict}.
 *
 * <p>Request: an object with an optional {@code "signature_name"} (default {@code serving_default})
 * and exactly one of
 * <ul>
 *   <li>{@code "instances"}: a non-empty list, one entry per example, batched along dim 0 — each a
 *       bare value/nested list (only when the signature has one input) or an object
 *       {@code {input_key: value}} naming every input; the response is {@code {"predictions": [...]}},
 *       one entry per example: a bare value when the signature has one output, else an object
 *       {@code {output_key: value}};</li>
 *   <li>{@code "inputs"}: the whole batch, a bare value (one input) or {@code {input_key: value}};
 *       the response is {@code {"outputs": value-or-object}}.</li>
 * </ul>
 * Tensors are nested JSON lists; dtypes and shapes come from the signature (float32 as numbers,
 * int32/int64 as integers; known dims must match, {@code -1} takes any size). A bad request fails
 * with an {@link IllegalArgumentException} whose message follows TF Serving's wording and names the
 * key and what was expected; TF Serving answers such requests with {@link #error} as the body.
 */
public final class RestPredict {

  public static final String DEFAULT_SIGNATURE = "serving_default";
  static final String SIGNATURE_KEY = "signature_name";
  static final String INSTANCES = "instances";
  static final String INPUTS = "inputs";
  static final String PREDICTIONS = "predictions";
  static final String OUTPUTS = "outputs";

  /**
   * Deepest nesting of arrays and objects a request may have: a tensor of TensorFlow's highest rank
   * ({@link JsonTensors#MAX_RANK}) inside the request object, its list and an instance object, with
   * room to spare. A tensor of a higher rank is refused before TensorFlow sees it (it aborts the process).
   */
  public static final int MAX_NESTING_DEPTH = 260;

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private RestPredict() {}

  /**
   * A JSON mapper that reads and writes like TF Serving: {@code NaN} / {@code Infinity} accepted in
   * requests and written unquoted in responses.
   */
  public static JsonMapper json() {
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build()).build();
    return JsonMapper.builder(factory).enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS).build();
  }

  /**
   * Parses a request body as TF Serving does: exactly one JSON document (whitespace around it only),
   * nested at most {@link #MAX_NESTING_DEPTH} arrays and objects deep.
   *
   * @param source what the body came from (a file name, {@code stdin}), named in errors
   * @throws IllegalArgumentException {@code JSON Parse error: ...} with the line and column, for a
   *     malformed, empty, too deeply nested or trailed document (TF Serving answers 400)
   */
  public static JsonNode parseRequest(JsonMapper json, byte[] body, String source) {
    String text;
    try {
      // UTF-8, as TF Serving reads it: a parser left to guess would take 00 00 00 xx for UTF-32 and fail
      // with a bare CharConversionException (RestPredictFuzzTest, seed 14, byte case 40)
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("JSON Parse error: Invalid encoding in string (the request is not UTF-8"
          + " text) of " + source, e);
    }
    try (JsonParser parser = json.createParser(text)) {
      JsonNode tree;
      try {
        tree = json.readTree(parser);
      } catch (StreamConstraintsException e) {
        throw new IllegalArgumentException("JSON Parse error: the nesting depth exceeds the limit: a request nests at"
            + " most " + MAX_NESTING_DEPTH + " arrays and objects" + where(e.getLocation()) + " of " + source, e);
      }
      if (tree == null || tree.isMissingNode()) {
        throw new IllegalArgumentException("JSON Parse error: The document is empty (" + source + ")");
      }
      JsonLocation end = parser.currentLocation();
      JsonToken next;
      try {
        next = parser.nextToken();
      } catch (JsonProcessingException e) {
        next = JsonToken.NOT_AVAILABLE; // an unreadable token after the document: trailing bytes too
      }
      if (next != null) {
        throw new IllegalArgumentException("JSON Parse error: The document root must not be followed by other values"
            + where(end) + " of " + source);
      }
      return tree;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("JSON Parse error: " + e.getOriginalMessage().replaceAll("\\[Source: [^;]*; ", "[")
          + where(e.getLocation()) + " of " + source, e);
    } catch (IOException e) {
      throw new UncheckedIOException("reading the request " + source, e);
    }
  }

  private static String where(JsonLocation at) {
    return at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
  }

  /** TF Serving's error body: {@code {"error": message}}. */
  public static ObjectNode error(String message) {
    ObjectNode e = NODES.objectNode();
    e.put("error", message);
    return e;
  }

  /**
   * Runs one predict request on {@code bundle} and returns the response body.
   *
   * @throws IllegalArgumentException for a malformed request, or one TensorFlow refuses while running
   *     the signature (the message is TensorFlow's)
   */
  public static ObjectNode predict(SavedModelBundle bundle, JsonNode request) {
    if (request == null || !request.isObject()) {
      throw new IllegalArgumentException("JSON Value: " + (request == null ? "null" : JsonTensors.brief(request))
          + " Is not object");
    }
    String name = DEFAULT_SIGNATURE;
    JsonNode sigNode = request.get(SIGNATURE_KEY);
    if (sigNode != null) {
      if (!sigNode.isTextual()) {
        throw new IllegalArgumentException("JSON Value: " + JsonTensors.brief(sigNode)
            + " not formatted correctly. 'signature_name' key must be a string value.");
      }
      name = sigNode.textValue();
    }
    Map<String, SignatureDef> defs = bundle.metaGraphDef().getSignatureDefMap();
    SignatureDef def = defs.get(name);
    if (def == null) {
      throw new IllegalArgumentException("Serving signature name: \"" + name + "\" not found in signature def"
          + " (the model has: " + String.join(", ", new TreeSet<>(defs.keySet())) + ")");
    }
    Signature sig = new Signature(name, specs(def.getInputsMap()), specs(def.getOutputsMap()));
    if (sig.inputs.isEmpty()) {
      throw new IllegalArgumentException("Failed to get input map for signature: " + name);
    }

    JsonNode instances = request.get(INSTANCES);
    JsonNode inputs = request.get(INPUTS);
    if (instances != null && inputs != null) {
      throw new IllegalArgumentException("Not formatted correctly expecting only one of 'inputs' or 'instances'"
          + " keys to exist");
    }
    if (instances == null && inputs == null) {
      throw new IllegalArgumentException("Missing 'inputs' or 'instances' key");
    }
    boolean rows = instances != null;
    Map<String, Fed> fed = rows ? fromInstances(instances, sig) : fromInputs(inputs, sig);
    for (Map.Entry<String, Fed> e : fed.entrySet()) {
      JsonTensors.checkRank(e.getKey(), e.getValue().shape);
      sig.inputs.get(e.getKey()).checkShape(e.getValue().shape, "signature '" + name + "'");
    }

    Map<String, Tensor> feeds = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Fed> e : fed.entrySet()) {
        feeds.put(e.getKey(), e.getValue().values.toTensor(e.getValue().shape));
      }
      try (Result result = bundle.function(name).call(feeds)) {
        return rows ? predictions(result, sig) : outputs(result, sig);
      } catch (TFInvalidArgumentException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    } finally {
      feeds.values().forEach(Tensor::close);
    }
  }

  /** A signature's inputs and outputs by key, in key order. */
  private record Signature(String name, Map<String, Spec> inputs, Map<String, Spec> outputs) {

    String inputKeys() {
      return String.join(",", inputs.keySet());
    }

    Spec onlyInput() {
      return inputs.values().iterator().next();
    }
  }

  /** An input's values and the shape they are fed with. */
  private record Fed(Values values, long[] shape) {}

  private static Map<String, Spec> specs(Map<String, TensorInfo> infos) {
    Map<String, Spec> specs = new TreeMap<>();
    infos.forEach((k, v) -> specs.put(k, Spec.of(k, v)));
    return specs;
  }

  /** An object of named tensors (not a {@code {"b64": "..."}} value, which TF Serving reads as one string). */
  private static boolean isNamedObject(JsonNode v) {
    return v.isObject() && !(v.size() == 1 && v.has("b64") && v.get("b64").isTextual());
  }

  // --- row format ---------------------------------------------------------------------------

  private static Map<String, Fed> fromInstances(JsonNode instances, Signature sig) {
    if (!instances.isArray()) {
      throw new IllegalArgumentException("Expecting 'instances' to be a list/array");
    }
    if (instances.isEmpty()) {
      throw new IllegalArgumentException("No values in 'instances' array");
    }
    boolean objects = isNamedObject(instances.get(0));
    if (!objects && sig.inputs.size() > 1) {
      throw new IllegalArgumentException("instances is a plain list, but expecting list of objects as multiple input"
          + " tensors required as per signature '" + sig.name + "' (inputs: " + sig.inputKeys() + ")");
    }
    int n = instances.size();
    Map<String, long[]> itemShapes = new HashMap<>();
    Map<String, Values> values = new TreeMap<>();
    // two passes: every element checked (keys, shapes) before any values are allocated, then filled
    for (boolean fill : new boolean[] {false, true}) {
      itemShapes.clear();
      addInstances(instances, sig, objects, n, itemShapes, values, fill);
    }
    Map<String, Fed> fed = new TreeMap<>();
    values.forEach((k, v) -> {
      long[] s = itemShapes.get(k);
      long[] shape = new long[s.length + 1];
      shape[0] = n;
      System.arraycopy(s, 0, shape, 1, s.length);
      fed.put(k, new Fed(v, shape));
    });
    return fed;
  }

  private static void addInstances(JsonNode instances, Signature sig, boolean objects, int n,
      Map<String, long[]> itemShapes, Map<String, Values> values, boolean fill) {
    int item = 0;
    for (JsonNode elem : instances) {
      if (objects) {
        if (!isNamedObject(elem)) {
          throw new IllegalArgumentException("Expecting object but got list at item " + item + " of input list");
        }
        Set<String> keys = new TreeSet<>();
        for (Map.Entry<String, JsonNode> kv : elem.properties()) {
          keys.add(kv.getKey());
          addInstanceItem(item, kv.getKey(), kv.getValue(), n, sig, itemShapes, fill ? values : null, true);
        }
        if (!keys.equals(sig.inputs.keySet())) {
          Set<String> missing = new TreeSet<>(sig.inputs.keySet());
          missing.removeAll(keys);
          throw new IllegalArgumentException("Failed to process element: " + item + " of 'instances' list. JSON object"
              + " keys: " + String.join(",", keys) + " must be equal to: " + sig.inputKeys() + " (missing: "
              + String.join(",", missing) + ")");
        }
      } else {
        if (isNamedObject(elem)) {
          throw new IllegalArgumentException("Expecting value/list but got object at item " + item
              + " of input list");
        }
        addInstanceItem(item, sig.onlyInput().key(), elem, n, sig, itemShapes, fill ? values : null, false);
      }
      item++;
    }
  }

  /** Checks one input of one element against the first element's; with {@code values} non-null, also stores it. */
  private static void addInstanceItem(int item, String key, JsonNode value, int n, Signature sig,
      Map<String, long[]> itemShapes, Map<String, Values> values, boolean named) {
    String where = "Failed to process element: " + item + (named ? " key: " + key : "") + " of 'instances' list."
        + " Error: ";
    Spec spec = sig.inputs.get(key);
    if (spec == null) {
      throw new IllegalArgumentException(where + "JSON object: does not have named input: " + key
          + " (signature '" + sig.name + "' takes: " + sig.inputKeys() + ")");
    }
    long[] shape = JsonTensors.shapeOf(value);
    long[] first = itemShapes.get(key);
    if (first == null) {
      itemShapes.put(key, shape);
      if (values != null) {
        long size;
        try {
          size = Math.multiplyExact(n, JsonTensors.size(shape));
        } catch (ArithmeticException e) {
          throw new IllegalArgumentException(where + "a request tensor of " + n + " x "
              + JsonTensors.shapeString(shape) + " values is too large", e);
        }
        try {
          values.put(key, new Values(spec.dtype(), size));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(where + e.getMessage(), e);
        }
      }
    } else if (JsonTensors.size(first) != JsonTensors.size(shape)) {
      throw new IllegalArgumentException(where + "Expecting tensor size: " + JsonTensors.size(first) + " but got: "
          + JsonTensors.size(shape) + " (input '" + key + "' of element 0 has shape " + JsonTensors.shapeString(first)
          + ", this one " + JsonTensors.shapeString(shape) + ")");
    } else if (!Arrays.equals(first, shape)) {
      throw new IllegalArgumentException(where + "Expecting shape " + JsonTensors.shapeString(first) + " but got: "
          + JsonTensors.shapeString(shape));
    }
    try {
      JsonTensors.fill(value, shape, values == null ? null : values.get(key));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + e.getMessage() + " (input '" + key + "', " + spec.describe() + ")",
          e);
    }
  }

  // --- columnar format ----------------------------------------------------------------------

  private static Map<String, Fed> fromInputs(JsonNode inputs, Signature sig) {
    Map<String, Fed> fed = new TreeMap<>();
    if (!isNamedObject(inputs)) {
      if (sig.inputs.size() > 1) {
        throw new IllegalArgumentException("inputs is a plain value/list, but expecting an object as multiple input"
            + " tensors required as per signature '" + sig.name + "' (inputs: " + sig.inputKeys() + ")");
      }
      Spec spec = sig.onlyInput();
      fed.put(spec.key(), columnar(spec, inputs));
      return fed;
    }
    for (Map.Entry<String, JsonNode> kv : inputs.properties()) {
      String key = kv.getKey();
      if (!sig.inputs.containsKey(key)) {
        throw new IllegalArgumentException("'inputs' object has an unknown input: " + key + " (signature '"
            + sig.name + "' takes: " + sig.inputKeys() + ")");
      }
    }
    for (Spec spec : sig.inputs.values()) {
      JsonNode value = inputs.get(spec.key());
      if (value == null) {
        throw new IllegalArgumentException("Missing named input: " + spec.key() + " in 'inputs' object."
            + " (signature '" + sig.name + "' takes: " + sig.inputKeys() + ")");
      }
      fed.put(spec.key(), columnar(spec, value));
    }
    return fed;
  }

  private static Fed columnar(Spec spec, JsonNode value) {
    long[] shape = JsonTensors.shapeOf(value);
    try {
      JsonTensors.fill(value, shape, null); // the shape holds before its values are allocated
      Values v = new Values(spec.dtype(), JsonTensors.size(shape));
      JsonTensors.fill(value, shape, v);
      return new Fed(v, shape);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("input '" + spec.key() + "' (" + spec.describe() + "): " + e.getMessage(), e);
    }
  }

  // --- responses ----------------------------------------------------------------------------

  /** Every output of the signature, read from the result once. */
  private static Map<String, JsonTensors.Output> read(Result result, Signature sig) {
    Map<String, JsonTensors.Output> out = new TreeMap<>();
    for (String key : sig.outputs.keySet()) {
      Tensor t = result.get(key).orElseThrow(() -> new IllegalStateException("signature '" + sig.name
          + "' returned no '" + key + "' output"));
      out.put(key, new JsonTensors.Output(key, t));
    }
    return out;
  }

  private static ObjectNode predictions(Result result, Signature sig) {
    Map<String, JsonTensors.Output> out = read(result, sig);
    long batch = -1;
    for (Map.Entry<String, JsonTensors.Output> e : out.entrySet()) {
      long[] shape = e.getValue().shape();
      if (shape.length == 0) {
        throw new IllegalArgumentException("Tensor name: " + e.getKey() + " has no shape information ");
      }
      if (batch >= 0 && shape[0] != batch) {
        throw new IllegalArgumentException("Tensor name: " + e.getKey() + " has inconsistent batch size: " + shape[0]
            + " expecting: " + batch);
      }
      batch = shape[0];
    }
    ArrayNode rows = NODES.arrayNode();
    for (int i = 0; i < batch; i++) {
      if (out.size() == 1) {
        rows.add(out.values().iterator().next().row(i));
      } else {
        ObjectNode row = rows.addObject();
        for (Map.Entry<String, JsonTensors.Output> e : out.entrySet()) {
          row.set(e.getKey(), e.getValue().row(i));
        }
      }
    }
    ObjectNode response = NODES.objectNode();
    response.set(PREDICTIONS, rows);
    return response;
  }

  private static ObjectNode outputs(Result result, Signature sig) {
    Map<String, JsonTensors.Output> out = read(result, sig);
    ObjectNode response = NODES.objectNode();
    if (out.size() == 1) {
      response.set(OUTPUTS, out.values().iterator().next().whole());
    } else {
      ObjectNode all = response.putObject(OUTPUTS);
      out.forEach((k, v) -> all.set(k, v.whole()));
    }
    return response;
  }
}
