package dev.upcycle.savedmodels.rest;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.tensorflow.proto.DataType;

/** TensorFlow's own names for dtypes and shapes in messages. */
final class TfTypes {

  private TfTypes() {}

  /**
   * {@code DataTypeString}: {@code float}, {@code int32}, {@code string}, {@code float_ref}, ... (the
   * enum name without {@code DT_}, lower case).
   */
  static String name(DataType dtype) {
    if (dtype == DataType.DT_INVALID || dtype == DataType.UNRECOGNIZED) {
      return "INVALID";
    }
    return dtype.name().substring(3).toLowerCase(Locale.ROOT);
  }

  /** {@code [3,2]}, TF Serving's {@code ShapeToString}. */
  static String shape(long[] dims) {
    return Arrays.stream(dims).mapToObj(Long::toString).collect(Collectors.joining(",", "[", "]"));
  }
}
