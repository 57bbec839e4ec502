package dev.upcycle.ckpt;

import java.util.Locale;

/** Element types a checkpoint tensor may hold. Byte order on disk and in memory is little-endian. */
public enum DType {
  FLOAT32(4, "float32", 1),
  FLOAT64(8, "float64", 2),
  INT32(4, "int32", 3),
  UINT8(1, "uint8", 4),
  INT16(2, "int16", 5),
  INT8(1, "int8", 6),
  STRING(-1, "string", 7),
  INT64(8, "int64", 9),
  BOOL(1, "bool", 10),
  BFLOAT16(2, "bfloat16", 14),
  FLOAT16(2, "float16", 19),
  /**
   * A type a reader can list but not decode (safetensors {@code F8_E4M3}, {@code U16}, ...): the
   * format's own spelling is {@link TensorInfo#storedDtype()}; reading such a tensor fails naming it.
   */
  UNREADABLE(-1, "unreadable", -1);

  private final int byteSize;
  private final String numpyName;
  private final int tfEnum;

  DType(int byteSize, String numpyName, int tfEnum) {
    this.byteSize = byteSize;
    this.numpyName = numpyName;
    this.tfEnum = tfEnum;
  }

  /** Bytes per element; -1 for variable-length strings and {@link #UNREADABLE}. */
  public int byteSize() {
    return byteSize;
  }

  /** The numpy / T5X spelling ("float32", "bfloat16", ...). */
  public String numpyName() {
    return numpyName;
  }

  /** The value of TensorFlow's {@code DataType} enum (DT_FLOAT = 1, ...). */
  public int tfEnum() {
    return tfEnum;
  }

  /** True for the floating-point types that weights are stored in. */
  public boolean isFloating() {
    return this == FLOAT32 || this == FLOAT64 || this == BFLOAT16 || this == FLOAT16;
  }

  /** Looks up TensorFlow's {@code DataType} number, or null when this project does not handle it. */
  public static DType fromTfEnum(int value) {
    for (DType d : values()) {
      if (d != UNREADABLE && d.tfEnum == value) {
        return d;
      }
    }
    return null;
  }

  /** Looks up a numpy dtype name ("float32", "&lt;f4", "bfloat16"), or null when unknown. */
  public static DType fromNumpyName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    switch (n) {
      case "<f4": case "float32": case "f4": return FLOAT32;
      case "<f8": case "float64": case "f8": return FLOAT64;
      case "<f2": case "float16": case "f2": return FLOAT16;
      case "bfloat16": case "<v2": return BFLOAT16;
      case "<i4": case "int32": case "i4": return INT32;
      case "<i8": case "int64": case "i8": return INT64;
      case "<i2": case "int16": return INT16;
      case "|i1": case "int8": case "i1": return INT8;
      case "|u1": case "uint8": case "u1": return UINT8;
      case "|b1": case "bool": return BOOL;
      default: return null;
    }
  }
}
