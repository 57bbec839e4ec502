package dev.upcycle.savedmodels.rest;

import java.util.Arrays;
import org.tensorflow.proto.DataType;

/** The values of one request tensor as they are read from JSON, in row-major order (a growable array). */
final class ValuesBuilder {

  private final DataType dtype;
  private final HostTensor.Kind kind;
  private double[] reals = new double[16];
  private long[] integers = new long[16];
  private byte[][] strings = new byte[16][];
  private int size;

  ValuesBuilder(DataType dtype) {
    this.dtype = dtype;
    this.kind = HostTensor.kind(dtype);
  }

  DataType dtype() {
    return dtype;
  }

  int size() {
    return size;
  }

  void addReal(double v) {
    if (size == reals.length) {
      reals = Arrays.copyOf(reals, grow());
    }
    reals[size++] = v;
  }

  void addInteger(long v) {
    if (size == integers.length) {
      integers = Arrays.copyOf(integers, grow());
    }
    integers[size++] = v;
  }

  void addString(byte[] v) {
    if (size == strings.length) {
      strings = Arrays.copyOf(strings, grow());
    }
    strings[size++] = v;
  }

  private int grow() {
    if (size >= Integer.MAX_VALUE - 8) {
      throw RestError.invalid("a request tensor of more than " + size + " values is too large");
    }
    return (int) Math.min(Integer.MAX_VALUE - 8L, size * 2L);
  }

  /** The tensor of {@code shape} holding the values added (as many as the shape holds). */
  HostTensor build(long[] shape) {
    Object values = switch (kind) {
      case REAL -> Arrays.copyOf(reals, size);
      case INTEGER -> Arrays.copyOf(integers, size);
      case STRING -> Arrays.copyOf(strings, size);
      case NONE -> null;
    };
    return HostTensor.of(dtype, shape, values);
  }
}
