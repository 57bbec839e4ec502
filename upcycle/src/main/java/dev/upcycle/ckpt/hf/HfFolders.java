package dev.upcycle.ckpt.hf;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Recognises a Hugging Face model folder by its weight files and says which form it is. Read:
 * {@value #SAFETENSORS}; {@value #SAFETENSORS_INDEX} with its shards; {@value #FLAX}. When a
 * folder holds several, the first of that list wins (as in {@code transformers}, which prefers
 * safetensors). Refused with a message saying what is read and how to get it: {@value #PYTORCH}
 * and {@value #PYTORCH_INDEX} (pickles), {@value #FLAX_INDEX} (sharded Flax) and {@value #TF_H5}.
 * A folder with only {@value #CONFIG} is not an HF folder (our own legacy folders hold one too).
 */
public final class HfFolders {

  public static final String CONFIG = "config.json";
  public static final String SAFETENSORS = "model.safetensors";
  public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";
  public static final String FLAX = "flax_model.msgpack";
  public static final String FLAX_INDEX = "flax_model.msgpack.index.json";
  public static final String PYTORCH = "pytorch_model.bin";
  public static final String PYTORCH_INDEX = "pytorch_model.bin.index.json";
  public static final String TF_H5 = "tf_model.h5";

  /** The weight files that are recognised but not read, each with what it is. */
  private static final List<String[]> REFUSED = List.of(
      new String[] {PYTORCH, "a PyTorch pickle"},
      new String[] {PYTORCH_INDEX, "sharded PyTorch pickles"},
      new String[] {FLAX_INDEX, "sharded Flax msgpack"},
      new String[] {TF_H5, "Keras H5 weights"});

  /** The forms that are read. */
  public enum Form {
    SAFETENSORS(HfFolders.SAFETENSORS, SafetensorsReader.FORMAT),
    SAFETENSORS_SHARDED(HfFolders.SAFETENSORS_INDEX, SafetensorsReader.FORMAT),
    FLAX(HfFolders.FLAX, HfFlaxReader.FORMAT);

    private final String fileName;
    private final String format;

    Form(String fileName, String format) {
      this.fileName = fileName;
      this.format = format;
    }

    /** The file that marks this form (for the sharded one, the index). */
    public String fileName() {
      return fileName;
    }

    /** The reader's {@link CheckpointReader#format()}: "hf-safetensors" or "hf-flax". */
    public String format() {
      return format;
    }
  }

  /**
   * A recognised folder: its form, the file to open ({@code model.safetensors}, the index, or
   * {@code flax_model.msgpack}) and its {@code config.json} when present.
   */
  public record HfFolder(Path dir, Form form, Path weights, Optional<Path> config) {

    public HfFolder {
      checkNotNull(dir, "dir");
      checkNotNull(form, "form of %s", dir);
      checkNotNull(weights, "weights of %s", dir);
      checkNotNull(config, "config of %s", dir);
    }

    /** Opens the reader for this form. */
    public CheckpointReader open() throws IOException {
      return switch (form) {
        case SAFETENSORS -> SafetensorsReader.open(weights);
        case SAFETENSORS_SHARDED -> SafetensorsShardedReader.open(weights);
        case FLAX -> HfFlaxReader.open(weights);
      };
    }
  }

  private HfFolders() {}

  /** True when {@code dir} holds any Hugging Face weight file, read or refused. */
  public static boolean looksLike(Path dir) {
    checkNotNull(dir, "dir");
    if (!Files.isDirectory(dir)) {
      return false;
    }
    for (Form f : Form.values()) {
      if (Files.isRegularFile(dir.resolve(f.fileName()))) {
        return true;
      }
    }
    return REFUSED.stream().anyMatch(r -> Files.isRegularFile(dir.resolve(r[0])));
  }

  /**
   * The form of {@code dir}; empty when it holds no Hugging Face weight file. A folder whose only
   * weights are in a refused form is a {@link CheckpointFormatException} saying which forms are read.
   */
  public static Optional<HfFolder> detect(Path dir) throws CheckpointFormatException {
    checkNotNull(dir, "dir");
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    Path config = dir.resolve(CONFIG);
    Optional<Path> cfg = Files.isRegularFile(config) ? Optional.of(config) : Optional.empty();
    for (Form f : Form.values()) {
      Path weights = dir.resolve(f.fileName());
      if (Files.isRegularFile(weights)) {
        return Optional.of(new HfFolder(dir, f, weights, cfg));
      }
    }
    for (String[] r : REFUSED) {
      if (Files.isRegularFile(dir.resolve(r[0]))) {
        throw new CheckpointFormatException(dir.resolve(r[0]), null, "is " + r[1] + ", which is not read. "
            + readableForms() + " To get one, load the model with transformers and save it again with"
            + " model.save_pretrained(OUT_DIR, safe_serialization=True) (writes " + SAFETENSORS + "), or run"
            + " FlaxAutoModel.from_pretrained(DIR, from_pt=True).save_pretrained(OUT_DIR) (writes " + FLAX + ").");
      }
    }
    return Optional.empty();
  }

  /** The sentence naming the forms that are read. */
  public static String readableForms() {
    return "Hugging Face weights are read as " + SAFETENSORS + " (single file), " + SAFETENSORS_INDEX
        + " with its model-0000N-of-0000M.safetensors shards, or " + FLAX + ".";
  }
}
