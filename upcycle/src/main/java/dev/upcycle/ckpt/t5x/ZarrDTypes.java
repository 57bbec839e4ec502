package dev.upcycle.ckpt.t5x;

import dev.upcycle.ckpt.DType;

/** Spellings of {@link DType} in zarr v2 metadata ({@code "<f4"}, {@code "bfloat16"}, ...). */
final class ZarrDTypes {

  private ZarrDTypes() {}

  /** The zarr v2 dtype string for {@code d}, little-endian; null for strings. */
  static String zarrName(DType d) {
    switch (d) {
      case FLOAT32: return "<f4";
      case FLOAT64: return "<f8";
      case FLOAT16: return "<f2";
      case BFLOAT16: return "bfloat16";
      case INT32: return "<i4";
      case INT64: return "<i8";
      case INT16: return "<i2";
      case INT8: return "|i1";
      case UINT8: return "|u1";
      case BOOL: return "|b1";
      default: return null;
    }
  }

  /** A parsed dtype: the element type and whether stored bytes are big-endian. */
  record Parsed(DType dtype, boolean bigEndian) {}

  /** Parses a zarr or numpy dtype name; null when unknown. Big-endian ({@code ">f4"}) is accepted. */
  static Parsed parse(String name) {
    if (name == null) {
      return null;
    }
    boolean big = name.startsWith(">");
    DType d = DType.fromNumpyName(big ? "<" + name.substring(1) : name);
    if (d == null && big) {
      d = DType.fromNumpyName("|" + name.substring(1));
    }
    if (d == null || d == DType.STRING) {
      return null;
    }
    return new Parsed(d, big && d.byteSize() > 1);
  }
}
