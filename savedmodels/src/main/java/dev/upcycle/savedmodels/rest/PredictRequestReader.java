package dev.upcycle.savedmodels.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorInfo;

/**
 * Reads a predict request body into tensors as TF Serving's {@code FillPredictRequestFromJson}
 * ({@code util/json_tensor.cc}) does, with its error messages:
 * <ul>
 *   <li>{@code "signature_name"} (optional, a string) picks the signature; its input map gives each
 *       input's dtype. The shape is the JSON's: read from the first element at each nesting level
 *       ({@code [[1,2],[3,4]]} is {@code [2,2]}), every list checked against it; the signature's
 *       declared shape is not consulted (the graph decides what it accepts).</li>
 *   <li>{@code "instances"} (row format): a non-empty list, one entry per example, all inputs
 *       batched along a new dimension 0 — a bare value per example when the signature has one input,
 *       else an object naming every input; every example must give each input the same shape.</li>
 *   <li>{@code "inputs"} (columnar format): whole tensors, a bare value for a one-input signature or
 *       an object with (at least) every input; keys the signature does not have are ignored.</li>
 *   <li>Values: float/double from any JSON number (float rounded to nearest, beyond its range to
 *       ±infinity) and {@code NaN}/{@code Infinity}/{@code -Infinity}; int8/int16/int32/uint8
 *       from integers in int32's range, int64 in int64's, uint32/uint64 in theirs; bool from
 *       {@code true}/{@code false}; string from a JSON string (its UTF-8 bytes) or
 *       {@code {"b64": "..."}} (the decoded bytes). Any other dtype is UNIMPLEMENTED.</li>
 * </ul>
 * Where TF Serving's message does not name the signature's inputs, the message ends with them in
 * parentheses. Limits TF Serving leaves to TensorFlow are checked here, before TensorFlow sees the
 * tensor: at most {@link HostTensor#MAX_RANK} dimensions ({@link HostTensor#checkRank}; TensorFlow
 * aborts the process on more), and values are stored only as every list is checked against the
 * shape read from first elements ({@link ValuesBuilder} grows with the values read), so a small
 * ragged request whose first elements claim billions of values is refused without allocating them.
 */
public final class PredictRequestReader {

  static final String SIGNATURE_KEY = "signature_name";
  static final String BASE64_KEY = "b64";

  private static final BigInteger UINT64_LIMIT = BigInteger.ONE.shiftLeft(64);

  private PredictRequestReader() {}

  /**
   * Reads {@code doc} (a parsed body, {@link RestJson#parse}).
   *
   * @param inputMaps the input map of a signature by name ({@code ""} for the default one), as TF
   *     Serving's {@code get_tensorinfo_map}; it throws a {@link RestError} for a name the model does
   *     not have
   * @throws RestError for a request TF Serving refuses, with its code and message
   */
  public static PredictRequest read(ObjectNode doc, Function<String, Map<String, TensorInfo>> inputMaps) {
    String name = "";
    JsonNode sig = doc.get(SIGNATURE_KEY);
    if (sig != null) {
      if (!sig.isTextual()) {
        throw RestError.invalid("JSON Value: " + RestJson.debugString(doc)
            + " not formatted correctly. 'signature_name' key must be a string value.");
      }
      name = sig.textValue();
    }
    SortedMap<String, TensorInfo> infos = new TreeMap<>(inputMaps.apply(name));
    String shown = name.isEmpty() ? RestPredict.DEFAULT_SIGNATURE : name;
    if (infos.isEmpty()) {
      throw RestError.invalid("Failed to get input map for signature: " + (name.isEmpty() ? "DEFAULT" : name));
    }
    JsonNode instances = doc.get(RequestFormat.ROW.requestKey());
    JsonNode inputs = doc.get(RequestFormat.COLUMNAR.requestKey());
    if (instances != null) {
      if (inputs != null) {
        throw formatError(doc, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
      }
      if (!instances.isArray()) {
        throw formatError(doc, "Expecting 'instances' to be an list/array");
      }
      if (instances.isEmpty()) {
        throw formatError(doc, "No values in 'instances' array");
      }
      return PredictRequest.of(shown, RequestFormat.ROW, fromInstances(instances, infos, shown));
    }
    if (inputs != null) {
      return PredictRequest.of(shown, RequestFormat.COLUMNAR, fromInputs(inputs, infos, shown));
    }
    throw RestError.invalid("Missing 'inputs' or 'instances' key");
  }

  private static RestError formatError(JsonNode doc, String what) {
    return RestError.invalid("JSON Value: " + RestJson.debugString(doc) + " " + what);
  }

  /** {@code " (signature 'score' takes: images,labels)"}. */
  private static String takes(String signature, Map<String, TensorInfo> infos) {
    return " (signature '" + signature + "' takes: " + String.join(",", infos.keySet()) + ")";
  }

  /** {@code {"b64": "..."}}: an object with that one key, mapping to a string. */
  static boolean isBase64(JsonNode v) {
    return v.isObject() && v.size() == 1 && v.has(BASE64_KEY) && v.get(BASE64_KEY).isTextual();
  }

  /** An object of named tensors, not a base64 value. */
  private static boolean isElementObject(JsonNode v) {
    return v.isObject() && !isBase64(v);
  }

  // --- row format ---------------------------------------------------------------------------

  /** One input being batched from the instances: its values so far and the first instance's size and shape. */
  private static final class RowInput {
    final ValuesBuilder values;
    int size = -1;
    long[] shape;

    RowInput(DataType dtype) {
      values = new ValuesBuilder(dtype);
    }
  }

  private static Map<String, HostTensor> fromInstances(JsonNode instances, SortedMap<String, TensorInfo> infos,
      String signature) {
    if (!instances.get(0).isObject() && infos.size() > 1) {
      throw RestError.invalid("instances is a plain list, but expecting list of objects as multiple input tensors"
          + " required as per tensorinfo_map" + takes(signature, infos));
    }
    boolean objects = isElementObject(instances.get(0));
    Map<String, RowInput> rows = new TreeMap<>();
    int count = 0;
    for (JsonNode elem : instances) {
      if (objects) {
        if (!isElementObject(elem)) {
          throw RestError.invalid("Expecting object but got list at item " + count + " of input list");
        }
        Set<String> keys = new TreeSet<>();
        for (Map.Entry<String, JsonNode> kv : elem.properties()) {
          keys.add(kv.getKey());
          try {
            addInstanceItem(kv.getValue(), kv.getKey(), infos, rows, signature);
          } catch (RestError e) {
            throw RestError.invalid("Failed to process element: " + count + " key: " + kv.getKey()
                + " of 'instances' list. Error: " + e.status());
          }
        }
        if (!keys.equals(infos.keySet())) {
          throw RestError.invalid("Failed to process element: " + count + " of 'instances' list. JSON object: "
              + RestJson.debugString(elem) + " keys must be equal to: " + String.join(",", infos.keySet()));
        }
      } else {
        if (isElementObject(elem)) {
          throw RestError.invalid("Expecting value/list but got object at item " + count + " of input list");
        }
        try {
          addInstanceItem(elem, infos.firstKey(), infos, rows, signature);
        } catch (RestError e) {
          throw RestError.invalid("Failed to process element: " + count + " of 'instances' list. Error: "
              + e.status());
        }
      }
      count++;
    }
    Map<String, HostTensor> tensors = new TreeMap<>();
    for (Map.Entry<String, RowInput> e : rows.entrySet()) {
      long[] item = e.getValue().shape;
      long[] shape = new long[item.length + 1];
      shape[0] = count;
      System.arraycopy(item, 0, shape, 1, item.length);
      HostTensor.checkRank(e.getKey(), shape);
      tensors.put(e.getKey(), e.getValue().values.build(shape));
    }
    return tensors;
  }

  private static void addInstanceItem(JsonNode item, String name, Map<String, TensorInfo> infos,
      Map<String, RowInput> rows, String signature) {
    TensorInfo info = infos.get(name);
    if (info == null) {
      throw RestError.invalid("JSON object: does not have named input: " + name + takes(signature, infos));
    }
    RowInput row = rows.computeIfAbsent(name, k -> new RowInput(info.getDtype()));
    long[] shape = denseShape(item);
    int before = row.values.size();
    fill(item, 0, shape, row.values);
    int size = row.values.size() - before;
    if (row.size < 0) {
      row.size = size;
      row.shape = shape;
    } else if (row.size != size) {
      throw RestError.invalid("Expecting tensor size: " + row.size + " but got: " + size);
    } else if (!java.util.Arrays.equals(row.shape, shape)) {
      throw RestError.invalid("Expecting shape " + TfTypes.shape(row.shape) + " but got: " + TfTypes.shape(shape));
    }
  }

  // --- columnar format ----------------------------------------------------------------------

  private static Map<String, HostTensor> fromInputs(JsonNode inputs, SortedMap<String, TensorInfo> infos,
      String signature) {
    Map<String, HostTensor> tensors = new TreeMap<>();
    if (!inputs.isObject() || isBase64(inputs)) {
      if (infos.size() > 1) {
        throw RestError.invalid("inputs is a plain value/list, but expecting an object as multiple input tensors"
            + " required as per tensorinfo_map" + takes(signature, infos));
      }
      String name = infos.firstKey();
      tensors.put(name, whole(name, inputs, infos.get(name).getDtype()));
      return tensors;
    }
    for (Map.Entry<String, TensorInfo> e : infos.entrySet()) {
      JsonNode item = inputs.get(e.getKey());
      if (item == null) {
        throw RestError.invalid("Missing named input: " + e.getKey() + " in 'inputs' object.");
      }
      tensors.put(e.getKey(), whole(e.getKey(), item, e.getValue().getDtype()));
    }
    return tensors;
  }

  private static HostTensor whole(String name, JsonNode value, DataType dtype) {
    long[] shape = denseShape(value);
    HostTensor.checkRank(name, shape);
    ValuesBuilder values = new ValuesBuilder(dtype);
    fill(value, 0, shape, values);
    return values.build(shape);
  }

  // --- one tensor ---------------------------------------------------------------------------

  /** {@code GetDenseTensorShape}: one dimension per nesting level, read from the first element. */
  static long[] denseShape(JsonNode v) {
    List<Long> dims = new ArrayList<>();
    for (JsonNode n = v; n.isArray(); n = n.get(0)) {
      dims.add((long) n.size());
      if (n.isEmpty()) {
        break;
      }
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  /** {@code FillTensorProto}: appends the values of {@code v}, checking every list against {@code shape}. */
  private static void fill(JsonNode v, int level, long[] shape, ValuesBuilder out) {
    int rank = shape.length;
    if (!v.isArray()) {
      if (level != rank) {
        throw RestError.invalid("JSON Value: " + RestJson.debugString(v) + " found at incorrect level: " + (level + 1)
            + " in the JSON DOM. Expected at level: " + rank);
      }
      if (v.isObject()) {
        if (out.dtype() != DataType.DT_STRING) {
          throw typeError(v, out.dtype());
        }
        out.addString(decodeBase64(v));
      } else {
        addValue(v, out);
      }
      return;
    }
    if (level >= rank) {
      throw RestError.invalid("Encountered list at unexpected level: " + level + " expected < " + rank);
    }
    if (v.size() != shape[level]) {
      throw RestError.invalid("Encountered list at unexpected size: " + v.size() + " at level: " + level
          + " expected size: " + shape[level]);
    }
    for (JsonNode e : v) {
      fill(e, level + 1, shape, out);
    }
  }

  private static byte[] decodeBase64(JsonNode v) {
    if (!isBase64(v)) {
      throw RestError.invalid("JSON Value: " + RestJson.debugString(v) + " not formatted correctly for base64 data");
    }
    try {
      return Base64.getDecoder().decode(v.get(BASE64_KEY).textValue());
    } catch (IllegalArgumentException e) {
      throw RestError.invalid("Unable to base64 decode");
    }
  }

  /** {@code AddValueToTensor}. */
  private static void addValue(JsonNode v, ValuesBuilder out) {
    DataType dtype = out.dtype();
    switch (dtype) {
      case DT_FLOAT, DT_DOUBLE -> {
        if (!v.isNumber()) {
          throw typeError(v, dtype);
        }
        double d = v.doubleValue();
        out.addReal(dtype == DataType.DT_FLOAT ? (float) d : d);
      }
      case DT_INT32, DT_INT16, DT_INT8, DT_UINT8 -> {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
          throw typeError(v, dtype);
        }
        out.addInteger(v.intValue());
      }
      case DT_INT64 -> {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
          throw typeError(v, dtype);
        }
        out.addInteger(v.longValue());
      }
      case DT_UINT32, DT_UINT64 -> {
        BigInteger limit = dtype == DataType.DT_UINT32 ? BigInteger.ONE.shiftLeft(32) : UINT64_LIMIT;
        if (!v.isIntegralNumber() || v.bigIntegerValue().signum() < 0 || v.bigIntegerValue().compareTo(limit) >= 0) {
          throw typeError(v, dtype);
        }
        out.addInteger(v.bigIntegerValue().longValue());
      }
      case DT_BOOL -> {
        if (!v.isBoolean()) {
          throw typeError(v, dtype);
        }
        out.addInteger(v.booleanValue() ? 1 : 0);
      }
      case DT_STRING -> {
        if (!v.isTextual()) {
          throw typeError(v, dtype);
        }
        out.addString(v.textValue().getBytes(StandardCharsets.UTF_8));
      }
      default -> throw new RestError(TfCode.UNIMPLEMENTED, "Conversion of JSON Value: " + RestJson.debugString(v)
          + " to type: " + TfTypes.name(dtype));
    }
  }

  private static RestError typeError(JsonNode v, DataType dtype) {
    return RestError.invalid("JSON Value: " + RestJson.debugString(v) + " Type: " + RestJson.typeName(v)
        + " is not of expected type: " + TfTypes.name(dtype));
  }
}
