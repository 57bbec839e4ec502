package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads one Hugging Face {@code .safetensors} file, one tensor at a time. Opening reads and checks
 * the header only ({@link SafetensorsHeader} lists the checks, those of the Rust reader); {@link
 * #read} reads one tensor's byte range with a positional read. Nothing is held open between reads.
 * Tensors of F32, F16, BF16, F64, I32 and I64 are read; the other safetensors dtypes are listed
 * as {@link dev.upcycle.ckpt.DType#UNREADABLE} with their header spelling ({@link
 * TensorInfo#storedDtype()}) and refused by {@link #read}, naming the dtype.
 */
public final class SafetensorsReader implements CheckpointReader {

  /** The format name returned by {@link #format()} (single file and sharded). */
  public static final String FORMAT = "hf-safetensors";
  /** The suffix of safetensors files. */
  public static final String SUFFIX = ".safetensors";

  private final Path file;
  private final SafetensorsHeader header;
  private final List<TensorInfo> infos;

  private SafetensorsReader(Path file, SafetensorsHeader header) {
    this.file = file;
    this.header = header;
    this.infos = header.entries().values().stream().map(SafetensorsHeader.Entry::info).toList();
  }

  /** Opens {@code file}, reading and checking its header. */
  public static SafetensorsReader open(Path file) throws IOException {
    checkNotNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no safetensors file here");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return new SafetensorsReader(file, SafetensorsHeader.read(file, ch));
    }
  }

  @Override
  public Path source() {
    return file;
  }

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public List<TensorInfo> tensors() {
    return infos;
  }

  /** The header's free-form {@code __metadata__} strings ({@code {"format": "pt"}}, ...); empty when absent. */
  public Map<String, String> metadata() {
    return header.metadata();
  }

  /** True when the file holds a tensor of this name. */
  public boolean contains(String name) {
    return header.entries().containsKey(name);
  }

  @Override
  public RawTensor read(String name) throws IOException {
    checkNotNull(name, "name");
    SafetensorsHeader.Entry e = header.entries().get(name);
    if (e == null) {
      throw new CheckpointFormatException(file, name, "no such tensor in this file");
    }
    if (!e.dtype().readable()) {
      throw new CheckpointFormatException(file, name, "dtype " + e.dtype() + " is not read (readable: "
          + Arrays.stream(SafetensorsDType.values()).filter(SafetensorsDType::readable).map(Enum::name)
              .collect(Collectors.joining(", "))
          + "); convert the checkpoint's weights to one of these first");
    }
    if (e.length() > Integer.MAX_VALUE - 16) {
      throw new CheckpointFormatException(file, name, e.length() + " bytes is larger than one Java array");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) e.length()).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      if (ch.size() != header.fileSize()) {
        throw new CheckpointFormatException(file, name, "file is " + ch.size() + " bytes, it was "
            + header.fileSize() + " when opened (changed since?)");
      }
      SafetensorsHeader.readFully(file, ch, buf, header.dataStart() + e.begin());
    }
    return new RawTensor(e.info(), buf.flip());
  }

  @Override
  public void close() {
    // Nothing is held open between reads.
  }
}
