package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.t5x.T5xCheckpointReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads Hugging Face Flax weights, {@code flax_model.msgpack}: {@code flax.serialization.to_bytes}
 * of the nested parameter dict, whose leaves are flax ndarray extensions (msgpack ext type 1,
 * payload {@code [shape, dtype name, C-order bytes]}; type 3 for numpy scalars). Tensor names are
 * the dict paths joined with {@code /} ({@code encoder/block/0/layer/0/SelfAttention/q/kernel}).
 * The msgpack decoding is the T5X reader's ({@link T5xCheckpointReader#openFlaxTree}); a leaf
 * that is not an array (a string, an unknown extension) is refused when opening, naming it.
 */
public final class HfFlaxReader implements CheckpointReader {

  /** The format name returned by {@link #format()}. */
  public static final String FORMAT = "hf-flax";

  private final Path file;
  private final T5xCheckpointReader tree;

  private HfFlaxReader(Path file, T5xCheckpointReader tree) {
    this.file = file;
    this.tree = tree;
  }

  /** Opens a {@code flax_model.msgpack} file; array payloads are located, not loaded. */
  public static HfFlaxReader open(Path file) throws IOException {
    checkNotNull(file, "file");
    T5xCheckpointReader tree = T5xCheckpointReader.openFlaxTree(file);
    List<String> odd = new ArrayList<>();
    tree.placeholders().forEach((name, value) -> odd.add(name + ": string leaf '" + value + "'"));
    if (!odd.isEmpty()) {
      throw new CheckpointFormatException(file, null, "leaves that are not arrays (a Hugging Face Flax"
          + " parameter file holds only arrays): " + String.join("; ", odd));
    }
    return new HfFlaxReader(file, tree);
  }

  /** The msgpack file. */
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
    return tree.tensors();
  }

  @Override
  public RawTensor read(String name) throws IOException {
    return tree.read(name);
  }

  @Override
  public void close() throws IOException {
    tree.close();
  }
}
