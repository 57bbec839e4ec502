package dev.upcycle.ckpt.hf;

import dev.upcycle.ckpt.DType;

/**
 * The element types a safetensors header may name (the Rust crate's {@code Dtype}, spelled as in
 * the header: {@code "F32"}, {@code "BF16"}, ...), with their width in bits and the {@link DType}
 * this project reads them as. Only F32, F16, BF16, F64, I32 and I64 are read; the others are
 * listed (as {@link DType#UNREADABLE}) and refused on read.
 */
public enum SafetensorsDType {
  F32(32, DType.FLOAT32),
  F16(16, DType.FLOAT16),
  BF16(16, DType.BFLOAT16),
  F64(64, DType.FLOAT64),
  I32(32, DType.INT32),
  I64(64, DType.INT64),
  U64(64, null),
  U32(32, null),
  I16(16, null),
  U16(16, null),
  I8(8, null),
  U8(8, null),
  BOOL(8, null),
  F8_E5M2(8, null),
  F8_E4M3(8, null),
  F8_E8M0(8, null),
  F6_E2M3(6, null),
  F6_E3M2(6, null),
  F4(4, null);

  private final int bits;
  private final DType dtype;

  SafetensorsDType(int bits, DType dtype) {
    this.bits = bits;
    this.dtype = dtype;
  }

  /** Bits per element (sub-byte types pack several elements per byte). */
  public int bits() {
    return bits;
  }

  /** True for the types {@link SafetensorsReader#read} decodes. */
  public boolean readable() {
    return dtype != null;
  }

  /** The project's type: FLOAT32, ... for the readable ones, {@link DType#UNREADABLE} otherwise. */
  public DType dtype() {
    return dtype != null ? dtype : DType.UNREADABLE;
  }

  /** The header spelling ("F32", "F8_E4M3", ...), or null when it is not a safetensors dtype. */
  public static SafetensorsDType parse(String name) {
    for (SafetensorsDType d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    return null;
  }

  /** Bytes of {@code elements} values, or -1 when sub-byte values do not fill whole bytes. */
  long byteSize(long elements) {
    long totalBits = Math.multiplyExact(elements, (long) bits);
    return totalBits % 8 == 0 ? totalBits / 8 : -1;
  }
}
