package dev.upcycle.savedmodels.rest;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.SortedMap;
import org.tensorflow.proto.DataType;

/**
 * Writes a signature's outputs as TF Serving's {@code MakeJsonFromTensors} ({@code util/json_tensor.cc}):
 * <ul>
 *   <li>row format: {@code {"predictions": [...]}}, one entry per index of dimension 0 (every output
 *       must have rank ≥ 1 and the same dimension 0): the output's row when the signature has one
 *       output, else an object {@code {name: row, ...}};</li>
 *   <li>columnar format: {@code {"outputs": tensor}} for one output, else {@code {"outputs": {name: tensor, ...}}};</li>
 *   <li>tensors as nested lists (a scalar bare); float/double as {@link DecimalText} writes them
 *       ({@code NaN}, {@code Infinity}, {@code -Infinity} unquoted); integers and bools as JSON
 *       integers and booleans; strings as JSON strings (their bytes read as UTF-8), and as
 *       {@code {"b64": "..."}} when the output's name ends in {@code _bytes}.</li>
 * </ul>
 * Output names are written in sorted order. Whitespace differs from TF Serving's pretty printer; the
 * JSON is the same.
 */
public final class PredictResponseWriter {

  /** TF Serving's {@code kBytesTensorNameSuffix}. */
  static final String BYTES_SUFFIX = "_bytes";

  private PredictResponseWriter() {}

  /**
   * The response body for {@code outputs} of a request in {@code format}.
   *
   * @throws RestError INVALID_ARGUMENT for no outputs, a row-format output of rank 0 or of another
   *     batch size than the others, or values of a dtype TF Serving cannot write (half, complex64, ...)
   */
  public static String write(SortedMap<String, HostTensor> outputs, RequestFormat format) {
    if (outputs.isEmpty()) {
      throw RestError.invalid("Cannot convert empty tensor map to JSON");
    }
    StringWriter text = new StringWriter();
    try (JsonGenerator g = RestJson.mapper().createGenerator(text)) {
      if (format == RequestFormat.ROW) {
        rows(outputs, g);
      } else {
        columns(outputs, g);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing a response", e);
    }
    return text.toString();
  }

  private static void rows(SortedMap<String, HostTensor> outputs, JsonGenerator g) throws IOException {
    long batch = -1;
    for (Map.Entry<String, HostTensor> e : outputs.entrySet()) {
      HostTensor t = e.getValue();
      if (t.rank() == 0) {
        throw RestError.invalid("Tensor name: " + e.getKey() + " has no shape information ");
      }
      if (batch >= 0 && batch != t.dim(0)) {
        throw RestError.invalid("Tensor name: " + e.getKey() + " has inconsistent batch size: " + t.dim(0)
            + " expecting: " + batch);
      }
      batch = t.dim(0);
    }
    boolean objects = outputs.size() > 1;
    g.writeStartObject();
    g.writeFieldName(RequestFormat.ROW.responseKey());
    g.writeStartArray();
    for (int item = 0; item < batch; item++) {
      if (objects) {
        g.writeStartObject();
      }
      for (Map.Entry<String, HostTensor> e : outputs.entrySet()) {
        HostTensor t = e.getValue();
        if (objects) {
          g.writeFieldName(e.getKey());
        }
        int rowSize = (int) (t.size() / t.dim(0));
        values(t, isBytes(e.getKey(), t), 1, new int[] {item * rowSize}, g);
      }
      if (objects) {
        g.writeEndObject();
      }
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void columns(SortedMap<String, HostTensor> outputs, JsonGenerator g) throws IOException {
    boolean objects = outputs.size() > 1;
    g.writeStartObject();
    g.writeFieldName(RequestFormat.COLUMNAR.responseKey());
    if (objects) {
      g.writeStartObject();
    }
    for (Map.Entry<String, HostTensor> e : outputs.entrySet()) {
      if (objects) {
        g.writeFieldName(e.getKey());
      }
      values(e.getValue(), isBytes(e.getKey(), e.getValue()), 0, new int[] {0}, g);
    }
    if (objects) {
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  /** {@code IsNamedTensorBytes}: a string output whose name ends in {@code _bytes}. */
  private static boolean isBytes(String name, HostTensor t) {
    return t.dtype() == DataType.DT_STRING && name.endsWith(BYTES_SUFFIX);
  }

  /** {@code AddTensorValues}: dimensions {@code dim}.. of {@code t} from value {@code offset[0]} on. */
  private static void values(HostTensor t, boolean bytes, int dim, int[] offset, JsonGenerator g) throws IOException {
    if (dim >= t.rank()) {
      value(t, bytes, offset[0]++, g);
      return;
    }
    g.writeStartArray();
    for (long i = 0; i < t.dim(dim); i++) {
      values(t, bytes, dim + 1, offset, g);
    }
    g.writeEndArray();
  }

  /** {@code AddSingleValueAndAdvance}. */
  private static void value(HostTensor t, boolean bytes, int i, JsonGenerator g) throws IOException {
    if (!t.hasValues()) {
      throw RestError.invalid("Failed to write JSON value for tensor type: " + TfTypes.name(t.dtype()));
    }
    switch (t.dtype()) {
      case DT_FLOAT -> g.writeNumber(DecimalText.ofFloat((float) t.real(i)));
      case DT_DOUBLE -> g.writeNumber(DecimalText.ofDouble(t.real(i)));
      case DT_UINT64 -> g.writeNumber(Long.toUnsignedString(t.integer(i)));
      case DT_BOOL -> g.writeBoolean(t.integer(i) != 0);
      case DT_STRING -> {
        if (bytes) {
          g.writeStartObject();
          g.writeStringField(PredictRequestReader.BASE64_KEY, Base64.getEncoder().encodeToString(t.string(i)));
          g.writeEndObject();
        } else {
          g.writeString(new String(t.string(i), StandardCharsets.UTF_8));
        }
      }
      default -> g.writeNumber(t.integer(i)); // int8, int16, int32, uint8, uint32, int64
    }
  }
}
