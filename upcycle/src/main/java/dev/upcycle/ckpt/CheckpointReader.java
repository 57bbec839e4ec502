package dev.upcycle.ckpt;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Streams the tensors of one checkpoint. Listing is cheap (metadata only); {@link #read} loads one
 * tensor's bytes, checks them (CRC, size) and returns them. Nothing else is held in memory.
 */
public interface CheckpointReader extends AutoCloseable {

  /** The file or folder this reader was opened on. */
  Path source();

  /** A short format name: "tf-bundle", "t5x", ... */
  String format();

  /** Every tensor in the checkpoint, sorted by name, under the names the format stores. */
  List<TensorInfo> tensors();

  /** Reads one tensor; throws {@link CheckpointFormatException} naming file and tensor when bad. */
  RawTensor read(String name) throws IOException;

  @Override
  void close() throws IOException;
}
