package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One tensor's values as raw little-endian, C-order bytes, with its {@link TensorInfo}. The buffer
 * is read-only and positioned at 0; it holds exactly {@code info.byteSize()} bytes.
 */
public record RawTensor(TensorInfo info, ByteBuffer data) {

  public RawTensor {
    checkNotNull(info, "info");
    checkNotNull(data, "data of %s", info.name());
    checkArgument(info.byteSize() < 0 || data.remaining() == info.byteSize(),
        "tensor %s: %s bytes given, %s expected for %s", info.name(), data.remaining(), info.byteSize(), info);
    data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  public String name() {
    return info.name();
  }

  public RawTensor withName(String newName) {
    return new RawTensor(info.withName(newName), data);
  }

  /** The bytes as a fresh array. */
  public byte[] bytes() {
    byte[] out = new byte[data.remaining()];
    data().get(out);
    return out;
  }
}
