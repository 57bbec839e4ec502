package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorInfo;

/**
 * The request side of TF Serving's {@code util/json_tensor_test.cc}, ported as table tests: each
 * request with its input map gives the tensors (dtype, shape, values) TF Serving's test expects, and
 * each bad one fails with TF Serving's code and message. A tensor is written
 * {@code dtype [shape] v1 v2 ...} below.
 */
class PredictRequestReaderTest {

  /** An input map: key, dtype, key, dtype, ... */
  private static Map<String, TensorInfo> infos(Object... keyDtype) {
    Map<String, TensorInfo> m = new TreeMap<>();
    for (int i = 0; i < keyDtype.length; i += 2) {
      m.put((String) keyDtype[i], TensorInfo.newBuilder().setDtype((DataType) keyDtype[i + 1]).build());
    }
    return m;
  }

  private static final Map<String, TensorInfo> INT32 = infos("default", DataType.DT_INT32);
  private static final Map<String, TensorInfo> FLOAT = infos("default", DataType.DT_FLOAT);
  private static final Map<String, TensorInfo> STRING = infos("default", DataType.DT_STRING);

  private static PredictRequest read(String json, Map<String, TensorInfo> infos) {
    return PredictRequestReader.read(RestJson.parse(json.getBytes(StandardCharsets.UTF_8), "test"), name -> infos);
  }

  /** {@code int32 [3,2] 1 2 3 4 5 6}. */
  static String describe(HostTensor t) {
    List<String> values = new ArrayList<>();
    for (int i = 0; i < t.size(); i++) {
      switch (HostTensor.kind(t.dtype())) {
        case REAL -> values.add(t.dtype() == DataType.DT_FLOAT ? Float.toString((float) t.real(i))
            : Double.toString(t.real(i)));
        case INTEGER -> values.add(Long.toString(t.integer(i)));
        case STRING -> values.add(new String(t.string(i), StandardCharsets.UTF_8));
        case NONE -> values.add("?");
      }
    }
    return TfTypes.name(t.dtype()) + " " + TfTypes.shape(t.shape())
        + (values.isEmpty() ? "" : " " + String.join(" ", values));
  }

  private static Map<String, String> tensors(PredictRequest r) {
    return r.inputs().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> describe(e.getValue()),
        (a, b) -> a, TreeMap::new));
  }

  private static void reads(String json, Map<String, TensorInfo> infos, RequestFormat format, String... keyTensor) {
    PredictRequest r = read(json, infos);
    assertEquals(format, r.format(), json);
    Map<String, String> expected = new TreeMap<>();
    for (int i = 0; i < keyTensor.length; i += 2) {
      expected.put(keyTensor[i], keyTensor[i + 1]);
    }
    assertEquals(expected, tensors(r), json);
  }

  private static RestError fails(String json, Map<String, TensorInfo> infos, TfCode code, String... fragments) {
    RestError e = assertThrows(RestError.class, () -> read(json, infos), json);
    assertEquals(code, e.code(), e.getMessage());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
    }
    return e;
  }

  @Test
  void singleUnnamedTensorsAndTheirShapes() {
    // SingleUnnamedTensor, SingleUnnamedTensorWithSignature
    reads("{\"instances\": [[1,2],[3,4],[5,6]]}", INT32, RequestFormat.ROW, "default", "int32 [3,2] 1 2 3 4 5 6");
    PredictRequest named = read("{\"signature_name\": \"predict_images\", \"instances\": [[1,2]]}", INT32);
    assertEquals("predict_images", named.signatureName());
    assertEquals("int32 [1,2] 1 2", describe(named.inputs().get("default")));
    assertEquals(RestPredict.DEFAULT_SIGNATURE, read("{\"instances\": [1]}", INT32).signatureName());
    // SingleUnnamedTensorColumnarFormat: named and bare
    reads("{\"inputs\": {\"int_tensor\": [[[1,2],[3,4],[5,6]]]}}", infos("int_tensor", DataType.DT_INT32),
        RequestFormat.COLUMNAR, "int_tensor", "int32 [1,3,2] 1 2 3 4 5 6");
    reads("{\"inputs\": [[[1,2],[3,4],[5,6]]]}", infos("int_tensor", DataType.DT_INT32), RequestFormat.COLUMNAR,
        "int_tensor", "int32 [1,3,2] 1 2 3 4 5 6");
    // scalars and empty lists
    reads("{\"inputs\": 7}", INT32, RequestFormat.COLUMNAR, "default", "int32 [] 7");
    reads("{\"inputs\": [[], []]}", FLOAT, RequestFormat.COLUMNAR, "default", "float [2,0]");
    reads("{\"instances\": [3, 4]}", INT32, RequestFormat.ROW, "default", "int32 [2] 3 4");
  }

  @Test
  void floatsAndDoublesFromAnyNumber() {
    // MixedInputForFloatTensor, MixedInputForDoubleTensor
    reads("{\"instances\": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]}", FLOAT, RequestFormat.ROW, "default",
        "float [7] 1.0 2.0 3.0 4.0 5.003 0.007 0.0");
    reads("{\"instances\": [1.0, 2, 3, 4, 0.662, 0, 0.0]}", infos("default", DataType.DT_DOUBLE), RequestFormat.ROW,
        "default", "double [7] 1.0 2.0 3.0 4.0 0.662 0.0 0.0");
    // FloatTensorWithPrecisionLoss: 1435774380 and 1435774380.0 both become the float 1435774336
    reads("{\"instances\": [1435774380]}", FLOAT, RequestFormat.ROW, "default", "float [1] 1.43577434E9");
    reads("{\"instances\": [1435774380.0]}", FLOAT, RequestFormat.ROW, "default", "float [1] 1.43577434E9");
    // FloatTensorThatExceedsMaxReturnsInf / ...MinReturnsZero (absl::Substitute writes 6 digits)
    reads("{\"instances\": [1.79769e+308]}", FLOAT, RequestFormat.ROW, "default", "float [1] Infinity");
    reads("{\"instances\": [-1.79769e+308]}", FLOAT, RequestFormat.ROW, "default", "float [1] -Infinity");
    reads("{\"instances\": [2.22507e-308]}", FLOAT, RequestFormat.ROW, "default", "float [1] 0.0");
    reads("{\"instances\": [-2.22507e-308]}", FLOAT, RequestFormat.ROW, "default", "float [1] -0.0");
    reads("{\"instances\": [NaN, Infinity, -Infinity]}", FLOAT, RequestFormat.ROW, "default",
        "float [3] NaN Infinity -Infinity");
  }

  @Test
  void stringsAndBase64() {
    // SingleUnnamedTensorBase64Scalars, ...Base64Lists, SingleNamedTensorBase64
    reads("{\"instances\": [ { \"b64\" : \"aGVsbG8=\" }, { \"b64\": \"d29ybGQ=\" } ]}", STRING, RequestFormat.ROW,
        "default", "string [2] hello world");
    reads("{\"instances\": [ [{ \"b64\" : \"aGVsbG8=\" }], [{ \"b64\": \"d29ybGQ=\" }] ]}", STRING, RequestFormat.ROW,
        "default", "string [2,1] hello world");
    reads("{\"instances\": [{\"default\": [ [{ \"b64\" : \"aGVsbG8=\" }], [{ \"b64\": \"d29ybGQ=\" }] ]}]}", STRING,
        RequestFormat.ROW, "default", "string [1,2,1] hello world");
    reads("{\"instances\": [\"foo\", \"bär\"]}", STRING, RequestFormat.ROW, "default", "string [2] foo bär");
    fails("{\"instances\": [{\"b64\": \"@@@\"}]}", STRING, TfCode.INVALID_ARGUMENT, "Unable to base64 decode");
    fails("{\"inputs\": [{\"b64\": 1}]}", STRING, TfCode.INVALID_ARGUMENT,
        "JSON Value: {\"b64\":1} not formatted correctly for base64 data");
    fails("{\"inputs\": [{\"b64\": \"aGVsbG8=\"}]}", INT32, TfCode.INVALID_ARGUMENT,
        "Type: Object is not of expected type: int32");
  }

  @Test
  void multipleNamedTensorsInBothFormats() {
    // MultipleNamedTensor
    Map<String, TensorInfo> four = infos("int_tensor", DataType.DT_INT32, "str_tensor", DataType.DT_STRING,
        "float_tensor", DataType.DT_FLOAT, "dbl_tensor", DataType.DT_DOUBLE);
    reads("""
        {"instances": [
          {"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"], "float_tensor": [1.0, NaN],
           "dbl_tensor": [NaN]},
          {"int_tensor": [[7,8],[9,0],[1,2]], "str_tensor": ["baz", "bat"], "float_tensor": [2.0, Infinity],
           "dbl_tensor": [2.0]}
        ]}""", four, RequestFormat.ROW,
        "int_tensor", "int32 [2,3,2] 1 2 3 4 5 6 7 8 9 0 1 2",
        "str_tensor", "string [2,2] foo bar baz bat",
        "float_tensor", "float [2,2] 1.0 NaN 2.0 Infinity",
        "dbl_tensor", "double [2,1] NaN 2.0");
    // MultipleNamedTensorColumnarFormat: shapes need not agree; an extra key is ignored
    reads("""
        {"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]], "str_tensor": ["foo", "bar"],
          "bin_tensor": { "b64" : "aGVsbG8=" }, "not_an_input": [1]}}""",
        infos("int_tensor", DataType.DT_INT32, "str_tensor", DataType.DT_STRING, "bin_tensor", DataType.DT_STRING),
        RequestFormat.COLUMNAR,
        "int_tensor", "int32 [1,3,2] 1 2 3 4 5 6",
        "str_tensor", "string [2] foo bar",
        "bin_tensor", "string [] hello");
  }

  @Test
  void integerAndBoolRanges() {
    reads("{\"instances\": [true, false]}", infos("default", DataType.DT_BOOL), RequestFormat.ROW, "default",
        "bool [2] 1 0");
    reads("{\"instances\": [9223372036854775807, -1]}", infos("default", DataType.DT_INT64), RequestFormat.ROW,
        "default", "int64 [2] 9223372036854775807 -1");
    reads("{\"instances\": [255, 300]}", infos("default", DataType.DT_UINT8), RequestFormat.ROW, "default",
        "uint8 [2] 255 300");
    reads("{\"instances\": [18446744073709551615]}", infos("default", DataType.DT_UINT64), RequestFormat.ROW,
        "default", "uint64 [1] -1");
    fails("{\"inputs\": [3000000000]}", INT32, TfCode.INVALID_ARGUMENT,
        "JSON Value: 3000000000 Type: Number is not of expected type: int32");
    fails("{\"inputs\": [1.0]}", INT32, TfCode.INVALID_ARGUMENT, "JSON Value: 1.0 Type: Number is not of expected"
        + " type: int32");
    fails("{\"inputs\": [-1]}", infos("default", DataType.DT_UINT32), TfCode.INVALID_ARGUMENT,
        "is not of expected type: uint32");
    fails("{\"inputs\": [1]}", infos("default", DataType.DT_BOOL), TfCode.INVALID_ARGUMENT,
        "JSON Value: 1 Type: Number is not of expected type: bool");
    fails("{\"inputs\": [null]}", FLOAT, TfCode.INVALID_ARGUMENT, "JSON Value: null Type: Null is not of expected"
        + " type: float");
  }

  @Test
  void unsupportedTypesAreUnimplementedAsInTfServing() {
    // AddValueToTensor's default case: UNIMPLEMENTED, wrapped as INVALID_ARGUMENT in the row format
    fails("{\"inputs\": [1.5]}", infos("x", DataType.DT_HALF), TfCode.UNIMPLEMENTED,
        "Conversion of JSON Value: 1.5 to type: half");
    RestError row = fails("{\"instances\": [1.5]}", infos("x", DataType.DT_HALF), TfCode.INVALID_ARGUMENT);
    assertEquals("Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: Conversion of JSON"
        + " Value: 1.5 to type: half", row.getMessage());
  }

  @Test
  void singleUnnamedTensorErrors() {
    // SingleUnnamedTensorErrors, with TF Serving's whole messages
    assertTrue(assertThrows(RestError.class, () -> read("", INT32)).getMessage()
        .startsWith("JSON Parse error: The document is empty"));
    fails("{\"signature_name\": 5, \"instances\": [[1,2],[3,4],[5,6,7]]}", INT32, TfCode.INVALID_ARGUMENT,
        "not formatted correctly. 'signature_name' key must be a string value.");
    RestError both = fails("{\"instances\": [[1,2],[3,4],[5,6,7]], \"inputs\": [[1,2],[3,4],[5,6,7]]}", INT32,
        TfCode.INVALID_ARGUMENT);
    assertEquals("JSON Value: {\"instances\":[[1,2],[3,4],[5,6,7]],\"inputs\":[[1,2],[3,4],[5,6,7]]} Not formatted"
        + " correctly expecting only one of 'inputs' or 'instances' keys to exist ", both.getMessage());
    assertEquals("Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size:"
        + " 2 but got: 3", fails("{\"instances\": [[1,2],[3,4],[5,6,7]]}", INT32, TfCode.INVALID_ARGUMENT)
        .getMessage());
    assertEquals("Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [2] but"
        + " got: [1,2]", fails("{\"instances\": [[1,2],[3,4],[[5,6]]]}", INT32, TfCode.INVALID_ARGUMENT)
        .getMessage());
    fails("{\"instances\": [1, [1]]}", INT32, TfCode.INVALID_ARGUMENT, "Expecting shape [] but got: [1]");
    fails("{\"instances\": [[1,2],[\"a\", \"b\"]]}", INT32, TfCode.INVALID_ARGUMENT,
        "JSON Value: \"a\" Type: String is not of expected type: int32");
    // the request keys
    assertEquals("Missing 'inputs' or 'instances' key", fails("{\"signature_name\": \"x\"}", INT32,
        TfCode.INVALID_ARGUMENT).getMessage());
    fails("{\"instances\": {\"a\": 1}}", INT32, TfCode.INVALID_ARGUMENT, "Expecting 'instances' to be an list/array");
    assertEquals("JSON Value: {\"instances\":[]} No values in 'instances' array",
        fails("{\"instances\": []}", INT32, TfCode.INVALID_ARGUMENT).getMessage());
    assertEquals("Failed to get input map for signature: DEFAULT",
        fails("{\"instances\": [1]}", Map.of(), TfCode.INVALID_ARGUMENT).getMessage());
    assertEquals("Failed to get input map for signature: get_counter",
        fails("{\"signature_name\": \"get_counter\", \"instances\": [1]}", Map.of(), TfCode.INVALID_ARGUMENT)
            .getMessage());
    // ragged and misplaced values (FillTensorProto)
    fails("{\"inputs\": [[1, 2], [3]]}", INT32, TfCode.INVALID_ARGUMENT,
        "Encountered list at unexpected size: 1 at level: 1 expected size: 2");
    fails("{\"inputs\": [[1, 2], 3]}", INT32, TfCode.INVALID_ARGUMENT,
        "JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2");
    fails("{\"inputs\": [1, [2]]}", INT32, TfCode.INVALID_ARGUMENT, "Encountered list at unexpected level: 1 expected < 1");
  }

  @Test
  void multipleNamedTensorErrors() {
    // MultipleNamedTensorErrors
    Map<String, TensorInfo> two = infos("int_tensor", DataType.DT_INT32, "str_tensor", DataType.DT_STRING);
    fails("""
        {"instances": [{"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"]},
                       {"int_tensor": [[[7,8],[9,0],[1,2]]], "str_tensor": ["baz", "bat"]}]}""", two,
        TfCode.INVALID_ARGUMENT, "Failed to process element: 1 key: int_tensor of 'instances' list. Error:"
            + " INVALID_ARGUMENT: Expecting shape [3,2] but got: [1,3,2]");
    fails("""
        {"instances": [{"int_tensor": [[1,2],[3,4],[5,6],[7,8]], "str_tensor": ["foo", "bar"]},
                       {"int_tensor": [[7,8],[9,0],[1,2]], "str_tensor": ["baz", "bat"]}]}""", two,
        TfCode.INVALID_ARGUMENT, "Expecting tensor size: 8 but got: 6");
    fails("""
        {"instances": [{"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"]}, [1, 20, 30],
                       {"int_tensor": [[[7,8],[9,0],[1,2]]], "str_tensor": ["baz", "bat"]}]}""", two,
        TfCode.INVALID_ARGUMENT, "Expecting object but got list at item 1 of input list");
    fails("{\"instances\": [[\"baz\", \"bar\"], {\"str_tensor\": [\"baz\", \"bat\"]}]}",
        infos("str_tensor", DataType.DT_STRING), TfCode.INVALID_ARGUMENT,
        "Expecting value/list but got object at item 1 of input list");
    // keys of an instance object
    fails("{\"instances\": [{\"int_tensor\": 1}]}", two, TfCode.INVALID_ARGUMENT,
        "Failed to process element: 0 of 'instances' list. JSON object: {\"int_tensor\":1} keys must be equal to:"
            + " int_tensor,str_tensor");
    fails("{\"instances\": [{\"int_tensor\": 1, \"str_tensor\": \"a\", \"other\": 2}]}", two, TfCode.INVALID_ARGUMENT,
        "Failed to process element: 0 key: other of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not"
            + " have named input: other");
    fails("{\"instances\": [[1], [2]]}", two, TfCode.INVALID_ARGUMENT, "instances is a plain list, but expecting list"
        + " of objects as multiple input tensors required as per tensorinfo_map", "takes: int_tensor,str_tensor");
    fails("{\"inputs\": [1]}", two, TfCode.INVALID_ARGUMENT, "inputs is a plain value/list, but expecting an object"
        + " as multiple input tensors required as per tensorinfo_map");
    assertEquals("Missing named input: str_tensor in 'inputs' object.",
        fails("{\"inputs\": {\"int_tensor\": 1}}", two, TfCode.INVALID_ARGUMENT).getMessage());
  }

  @Test
  void signatureLookupErrorsComeFromTheModel() {
    RestError unknown = new RestError(TfCode.INVALID_ARGUMENT, "Serving signature name: \"nope\" not found in"
        + " signature def");
    RestError e = assertThrows(RestError.class, () -> PredictRequestReader.read(
        RestJson.parse("{\"signature_name\": \"nope\", \"instances\": [1]}".getBytes(StandardCharsets.UTF_8), "t"),
        name -> {
          assertEquals("nope", name);
          throw unknown;
        }));
    assertEquals(unknown, e);
  }

  /**
   * TensorFlow aborts the process on a tensor of more than 254 dimensions, so the reader refuses
   * one first: a value nested 255 lists deep in the columnar format, or 254 deep per instance (255
   * with the batch dimension). 254 dimensions are read.
   */
  @Test
  void moreDimensionsThanTensorFlowAllowsAreRefused() {
    String deep254 = "[".repeat(254) + "1.0" + "]".repeat(254);
    String deep255 = "[" + deep254 + "]";
    assertEquals(254, read("{\"inputs\": " + deep254 + "}", FLOAT).inputs().get("default").rank());
    assertEquals("input 'default' has 255 dimensions; TensorFlow tensors have at most " + HostTensor.MAX_RANK,
        fails("{\"inputs\": " + deep255 + "}", FLOAT, TfCode.INVALID_ARGUMENT).getMessage());
    fails("{\"inputs\": {\"x\": " + deep255 + "}}", infos("x", DataType.DT_FLOAT), TfCode.INVALID_ARGUMENT,
        "input 'x' has 255 dimensions");
    fails("{\"instances\": [" + deep254 + "]}", FLOAT, TfCode.INVALID_ARGUMENT, "input 'default' has 255 dimensions");
    fails("{\"instances\": [{\"x\": " + deep254 + "}]}", infos("x", DataType.DT_FLOAT), TfCode.INVALID_ARGUMENT,
        "input 'x' has 255 dimensions");
  }

  /**
   * The shape is read from first elements, so a 200 KB ragged request ({@code [[46340 values], 1, 1,
   * ...]}) claims [46340, 46340] values (8 GiB of floats) it does not hold: every list is checked
   * as its values are read, and only values read are stored, so it is refused with TF Serving's
   * ragged-list errors and nothing of the claimed size is allocated.
   */
  @Test
  void raggedRequestsClaimingBillionsOfValuesAreRefusedWithoutAllocatingThem() {
    String wide = "[" + "1,".repeat(46_339) + "1]";
    String rows = "[" + wide + ",1".repeat(46_339) + "]";
    fails("{\"inputs\": " + rows + "}", FLOAT, TfCode.INVALID_ARGUMENT,
        "JSON Value: 1 found at incorrect level: 2 in the JSON DOM. Expected at level: 2");
    fails("{\"instances\": " + rows + "}", FLOAT, TfCode.INVALID_ARGUMENT,
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 46340"
            + " but got: 1");
    // first elements claiming 255^8 values, more than a long counts: refused as ragged, not overflowed
    String claim = "2.0";
    for (int level = 0; level < 8; level++) {
      claim = "[" + claim + ",3".repeat(254) + "]";
    }
    fails("{\"inputs\": " + claim + "}", FLOAT, TfCode.INVALID_ARGUMENT, "found at incorrect level");
  }
}
