package dev.upcycle.savedmodels.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * The response side of TF Serving's {@code util/json_tensor_test.cc} ({@code FromJson*}), ported as
 * table tests: each output map gives the JSON TF Serving's test expects (compared as JSON; as text
 * where TF Serving's test compares numbers as strings), and each bad map fails with its message.
 */
class PredictResponseWriterTest {

  private static SortedMap<String, HostTensor> map(Object... nameTensor) {
    SortedMap<String, HostTensor> m = new TreeMap<>();
    for (int i = 0; i < nameTensor.length; i += 2) {
      m.put((String) nameTensor[i], (HostTensor) nameTensor[i + 1]);
    }
    return m;
  }

  private static HostTensor ints(long[] shape, long... v) {
    return HostTensor.of(DataType.DT_INT32, shape, v);
  }

  private static HostTensor strings(long[] shape, String... v) {
    byte[][] b = new byte[v.length][];
    for (int i = 0; i < v.length; i++) {
      b[i] = v[i].getBytes(StandardCharsets.UTF_8);
    }
    return HostTensor.of(DataType.DT_STRING, shape, b);
  }

  private static HostTensor reals(DataType dtype, long[] shape, double... v) {
    return HostTensor.of(dtype, shape, v);
  }

  private static long[] s(long... dims) {
    return dims;
  }

  private static void writes(SortedMap<String, HostTensor> outputs, RequestFormat format, String expected)
      throws Exception {
    String json = PredictResponseWriter.write(outputs, format);
    JsonNode actual = RestJson.mapper().readTree(json);
    assertEquals(RestJson.mapper().readTree(expected), actual, json);
  }

  private static final HostTensor INT_2_3_2 = ints(s(2, 3, 2), 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2);

  @Test
  void oneTensorIsWrittenUnnamed() throws Exception {
    // FromJsonSingleTensor, FromJsonSingleScalarTensor
    writes(map("int_tensor", INT_2_3_2), RequestFormat.ROW,
        "{\"predictions\": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]]}");
    writes(map("int_tensor", INT_2_3_2), RequestFormat.COLUMNAR,
        "{\"outputs\": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]]}");
    writes(map("int_tensor", ints(s(5), 1, 2, 3, 4, 5)), RequestFormat.ROW, "{\"predictions\": [1, 2, 3, 4, 5]}");
    writes(map("int_tensor", ints(s(5), 1, 2, 3, 4, 5)), RequestFormat.COLUMNAR, "{\"outputs\": [1, 2, 3, 4, 5]}");
    writes(map("x", ints(s(), 7)), RequestFormat.COLUMNAR, "{\"outputs\": 7}");
  }

  @Test
  void bytesOutputsAreBase64() throws Exception {
    // FromJsonSingleBytesTensor
    writes(map("str_tensor_bytes", strings(s(2, 2), "hello", "world", "tf", "serving")), RequestFormat.ROW,
        "{\"predictions\": [[{\"b64\": \"aGVsbG8=\"}, {\"b64\": \"d29ybGQ=\"}],"
            + " [{\"b64\": \"dGY=\"}, {\"b64\": \"c2VydmluZw==\"}]]}");
  }

  @Test
  void floatsAsTfServingWritesThem() {
    // FromJsonSingleFloatTensorSixDigitPrecision and ...NonFinite compare the numbers as strings
    HostTensor six = HostTensor.ofFloats(s(2, 3), 9000000f, 999999f, 0.50000f, .0003f, .00003f, 555557.5f);
    assertEquals("{\"predictions\":[[9e+06,999999.0,0.5],[0.0003,3e-05,555557.5]]}",
        PredictResponseWriter.write(map("float_tensor", six), RequestFormat.ROW));
    HostTensor nonFinite = HostTensor.ofFloats(s(2, 2), Float.NaN, Float.POSITIVE_INFINITY, 3f,
        Float.NEGATIVE_INFINITY);
    assertEquals("{\"predictions\":[[NaN,Infinity],[3.0,-Infinity]]}",
        PredictResponseWriter.write(map("float_tensor", nonFinite), RequestFormat.ROW));
  }

  @Test
  void manyTensorsAreObjects() throws Exception {
    // FromJsonMultipleNamedTensors
    SortedMap<String, HostTensor> m = map(
        "int_tensor", INT_2_3_2,
        "str_tensor", strings(s(2, 2), "foo", "bar", "baz", "bat"),
        "float_tensor", HostTensor.ofFloats(s(2, 1), 1f, 2f),
        "double_scalar_tensor", reals(DataType.DT_DOUBLE, s(2), 8, 9),
        "str_tensor_bytes", strings(s(2, 2), "hello", "world", "tf", "serving"));
    writes(m, RequestFormat.ROW, """
        {"predictions": [
          {"double_scalar_tensor": 8.0, "float_tensor": [1.0], "int_tensor": [[1, 2], [3, 4], [5, 6]],
           "str_tensor": ["foo", "bar"], "str_tensor_bytes": [ {"b64": "aGVsbG8="}, {"b64": "d29ybGQ="} ]},
          {"double_scalar_tensor": 9.0, "float_tensor": [2.0], "int_tensor": [[7, 8], [9, 0], [1, 2]],
           "str_tensor": ["baz", "bat"], "str_tensor_bytes": [ {"b64": "dGY="}, {"b64": "c2VydmluZw=="} ]}
        ]}""");
    writes(m, RequestFormat.COLUMNAR, """
        {"outputs": {
          "double_scalar_tensor": [8.0, 9.0], "float_tensor": [[1.0], [2.0]],
          "int_tensor": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]],
          "str_tensor": [["foo", "bar"], ["baz", "bat"]],
          "str_tensor_bytes": [[{"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}], [{"b64": "dGY="}, {"b64": "c2VydmluZw=="}]]
        }}""");
  }

  @Test
  void zeroBatchesAreEmptyLists() throws Exception {
    // FromJsonSingleZeroBatchTensor, FromJsonMultipleZeroBatchTensors
    writes(map("int_tensor", ints(s(0, 2))), RequestFormat.ROW, "{\"predictions\": []}");
    writes(map("str_tensor", strings(s(0, 1, 2)), "float_tensor", HostTensor.ofFloats(s(0, 3, 4))),
        RequestFormat.ROW, "{\"predictions\": []}");
  }

  @Test
  void otherTypes() throws Exception {
    writes(map("b", HostTensor.of(DataType.DT_BOOL, s(2), new long[] {1, 0}), "u",
        HostTensor.of(DataType.DT_UINT64, s(2), new long[] {-1, 3})), RequestFormat.COLUMNAR,
        "{\"outputs\": {\"b\": [true, false], \"u\": [18446744073709551615, 3]}}");
    writes(map("s", strings(s(1), "bär")), RequestFormat.ROW, "{\"predictions\": [\"bär\"]}");
  }

  private static void fails(SortedMap<String, HostTensor> outputs, RequestFormat format, String message) {
    RestError e = assertThrows(RestError.class, () -> PredictResponseWriter.write(outputs, format));
    assertEquals(TfCode.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void errors() {
    // FromJsonSingleTensorErrors, FromJsonMultipleNamedTensorsErrors, FromJsonMultipleZeroBatchTensorsErrors
    fails(map(), RequestFormat.ROW, "Cannot convert empty tensor map to JSON");
    fails(map("tensor", HostTensor.of(DataType.DT_COMPLEX64, s(2), null)), RequestFormat.ROW,
        "Failed to write JSON value for tensor type: complex64");
    fails(map("tensor", ints(s(), 1)), RequestFormat.ROW, "Tensor name: tensor has no shape information ");
    fails(map("int_tensor", ints(s(2, 3), 1, 2, 3, 4, 5, 6), "str_tensor", strings(s(1, 3), "foo", "bar", "baz")),
        RequestFormat.ROW, "Tensor name: str_tensor has inconsistent batch size: 1 expecting: 2");
    fails(map("int_tensor", ints(s(0, 2)), "str_tensor", strings(s(1, 2), "foo", "bar")), RequestFormat.ROW,
        "inconsistent batch size");
  }
}
