package dev.upcycle.ckpt;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.hf.HfCanonicalReader;
import dev.upcycle.ckpt.hf.HfConfig;
import dev.upcycle.ckpt.hf.HfFolders;
import dev.upcycle.ckpt.hf.HfT5Names;
import dev.upcycle.ckpt.hf.HfVitNames;
import dev.upcycle.ckpt.names.MeshTfNames;
import dev.upcycle.ckpt.names.NameMap;
import dev.upcycle.ckpt.names.T5xNames;
import dev.upcycle.ckpt.names.Tf2ObjectGraphNames;
import dev.upcycle.ckpt.t5x.T5xCheckpointReader;
import dev.upcycle.ckpt.tf.TfBundleReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Opens any supported dense checkpoint under canonical names (DESIGN.md §3), deciding format and
 * naming from what is on disk:
 * <ul>
 *   <li>format: a T5X folder (msgpack file {@code checkpoint} that is not a TF state file) or a
 *       TF tensor bundle (prefix, {@code .index}, folder with a {@code checkpoint} state file, or
 *       a SavedModel folder with {@code variables/});
 *   <li>naming, unless a user map is given: T5X → strip {@code target/}; TF2 object graph (names
 *       ending in {@code /.ATTRIBUTES/VARIABLE_VALUE}) → strip the suffix; Mesh-TF T5 (names like
 *       {@code encoder/block_000/...} or {@code shared/embedding}) → {@link MeshTfNames};
 *       Tensor2Tensor {@code transformer/body/...} → the shipped {@code t2t-transformer.map};
 *       anything else is taken as canonical already.
 * </ul>
 * A user map replaces the built-in naming and applies to the names as the format stores them
 * (for T5X: with {@code target/}). Names it does not match are kept out of the reader's listing and
 * reported by {@link RenamingReader#unmapped()} (a plan check then refuses to convert).
 *
 * <p>{@link #open} is for reading values and refuses a source some of whose values cannot be read
 * (Orbax placeholders, missing data shards); {@link #list} reads only the index, for listing.
 */
public final class CheckpointFormats {

  /** Naming labels. */
  public static final String CANONICAL = "canonical";
  public static final String T5X = "t5x";
  public static final String TF2_OBJECT_GRAPH = "tf2-object-graph";
  public static final String MESH_TF = "mesh-tf-t5";
  public static final String T2T = "t2t-transformer";
  public static final String USER_MAP = "user-map";

  private static final Pattern MESH_TF_NAME =
      Pattern.compile("(encoder|decoder)/block_\\d{3}/.*|shared/embedding(_slot_v.*)?");
  private static final Pattern T5X_STEP = Pattern.compile("checkpoint_\\d+");
  private static final String TF2_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE";
  private static final NameMap IDENTITY = NameMap.of(NameMap.Rule.map("(.*)", "$1"));

  /**
   * What {@link #open} found: format and naming, the file whose digest identifies the source
   * (bundle {@code .index} or T5X msgpack), counts, and the names kept out.
   *
   * @param placeholders Orbax placeholders of a T5X source (name → reference), not readable
   * @param unusedSlots unused Adafactor slots of a T5X-layout source ([1] zeros), not listed
   * @param missingShards data shard files of a TF bundle that are not on disk, not readable
   */
  public record Detected(String format, String naming, Path source, Path indexFile, int stored, int mapped,
      List<String> dropped, List<String> unmapped, Map<String, String> placeholders, List<String> unusedSlots,
      List<Path> missingShards) {

    public Detected {
      dropped = List.copyOf(dropped);
      unmapped = List.copyOf(unmapped);
      placeholders = Collections.unmodifiableMap(new TreeMap<>(placeholders)); // sorted by name
      unusedSlots = List.copyOf(unusedSlots);
      missingShards = List.copyOf(missingShards);
    }

    /** One line: {@code tf-bundle, naming mesh-tf-t5: 120 stored, 118 mapped, 2 dropped, 0 unmapped}. */
    public String describe() {
      return format + ", naming " + naming + ": " + stored + " stored, " + mapped + " mapped, " + dropped.size()
          + " dropped, " + unmapped.size() + " unmapped"
          + (unusedSlots.isEmpty() ? "" : ", " + unusedSlots.size() + " unused Adafactor slots ([1] zeros) not listed")
          + (placeholders.isEmpty() ? "" : ", " + placeholders.size() + " Orbax placeholders (not readable)")
          + (missingShards.isEmpty() ? "" : ", " + missingShards.size() + " data shard(s) missing (not readable)");
    }

    /** True when every listed tensor's values can be read: no Orbax placeholder, no missing data shard. */
    public boolean readable() {
      return placeholders.isEmpty() && missingShards.isEmpty();
    }
  }

  private CheckpointFormats() {}

  /**
   * Opens {@code path} with canonical names, to read tensor values: a source with leaves that
   * cannot be read is refused here, before anything is read or written.
   *
   * @throws CheckpointFormatException when the path holds no supported checkpoint, when it is an
   *     Orbax checkpoint (its leaves are {@code PLACEHOLDER://} references this reader cannot read),
   *     or when data shards of a TF bundle are missing; the message names the file and a leaf or shard
   */
  public static RenamingReader open(Path path, Optional<NameMap> userMap) throws IOException {
    RenamingReader reader = list(path, userMap);
    try {
      requireReadable(reader);
      return reader;
    } catch (IOException | RuntimeException e) {
      reader.close();
      throw e;
    }
  }

  /**
   * Opens {@code path} with canonical names to list its tensors (what {@code inspect} shows): reads
   * only the index, so an Orbax checkpoint or a bundle whose data shards are missing is listed too;
   * {@link #detected} says what cannot be read, and reading such a tensor fails naming the file.
   *
   * @throws CheckpointFormatException when the path holds no supported checkpoint
   */
  public static RenamingReader list(Path path, Optional<NameMap> userMap) throws IOException {
    checkNotNull(path, "path");
    checkNotNull(userMap, "userMap");
    if (!Files.exists(path) && !Files.exists(path.resolveSibling(path.getFileName() + ".index"))) {
      throw new NoSuchFileException(path.toString(), null, "not found (no checkpoint at this path)");
    }
    Optional<HfFolders.HfFolder> hf = HfFolders.detect(path);
    if (hf.isPresent()) {
      if (userMap.isPresent()) {
        throw new CheckpointFormatException(path, null, "is a Hugging Face folder, whose names the built-in "
            + HfT5Names.NAMING + " / " + HfVitNames.NAMING + " tables map (with their transposes); --map is not"
            + " used with it");
      }
      HfCanonicalReader canonical = openHf(hf.get());
      return new RenamingReader(canonical, IDENTITY, canonical.naming());
    }
    CheckpointReader inner = openStored(path);
    try {
      return rename(inner, userMap);
    } catch (IOException | RuntimeException e) {
      inner.close();
      throw e;
    }
  }

  private static RenamingReader rename(CheckpointReader inner, Optional<NameMap> userMap) throws IOException {
    if (userMap.isPresent()) {
      return new RenamingReader(inner, userMap.get(), USER_MAP);
    }
    if (inner instanceof T5xCheckpointReader) {
      return new RenamingReader(inner, T5xNames.fromT5x(), T5X);
    }
    List<String> names = inner.tensors().stream().map(TensorInfo::name).toList();
    if (names.stream().anyMatch(n -> n.endsWith(TF2_SUFFIX))) {
      return new RenamingReader(inner, Tf2ObjectGraphNames.nameMap(), TF2_OBJECT_GRAPH);
    }
    if (names.stream().anyMatch(n -> MESH_TF_NAME.matcher(n).matches())) {
      return new RenamingReader(inner, MeshTfNames.nameMap(), MESH_TF);
    }
    if (names.stream().anyMatch(n -> n.startsWith("transformer/body/"))) {
      return new RenamingReader(inner, NameMap.resource("t2t-transformer.map"), T2T);
    }
    return new RenamingReader(inner, IDENTITY, CANONICAL);
  }

  /** Refuses a reader {@link #list} opened whose values cannot all be read (see {@link #open}). */
  private static void requireReadable(RenamingReader reader) throws CheckpointFormatException {
    CheckpointReader inner = reader.inner();
    if (inner instanceof T5xCheckpointReader t5x && !t5x.placeholders().isEmpty()) {
      Map.Entry<String, String> first = t5x.placeholders().entrySet().iterator().next();
      throw new CheckpointFormatException(t5x.source().resolve(T5xCheckpointReader.MSGPACK_FILE), first.getKey(),
          "is an Orbax placeholder ('" + first.getValue() + "'): this is an Orbax checkpoint whose values this"
          + " T5X reader cannot read (" + t5x.placeholders().size() + " of its leaves are "
          + T5xCheckpointReader.PLACEHOLDER_PREFIX + " references into Orbax's own store); 'upcycle inspect'"
          + " lists them. This reader reads T5X msgpack checkpoints whose leaves are inline arrays or tensorstore"
          + " specs");
    }
    if (inner instanceof TfBundleReader tf && !tf.missingShards().isEmpty()) {
      List<TfBundleReader.MissingShard> missing = tf.missingShards();
      TfBundleReader.MissingShard first = missing.get(0);
      throw new CheckpointFormatException(first.file(), null, "data shard " + first.shard() + " of " + tf.numShards()
          + " is missing (the index " + tf.prefix().getFileName() + ".index refers to it; it holds " + first.tensors()
          + " tensor(s))" + (missing.size() > 1 ? "; " + (missing.size() - 1) + " more shard(s) missing: "
          + missing.subList(1, missing.size()).stream().map(m -> m.file().getFileName().toString()).toList() : ""));
    }
  }

  /**
   * Opens {@code path} with the names as stored: T5X or TF bundle. A folder holding T5X
   * {@code checkpoint_<step>/} folders (a T5X model dir, or {@code convert --format t5x} output)
   * opens its highest step.
   */
  public static CheckpointReader openStored(Path path) throws IOException {
    checkNotNull(path, "path");
    Optional<Path> step = latestT5xStep(path);
    if (step.isPresent() && !isT5x(path) && !TfBundleReader.looksLike(path)) {
      return T5xCheckpointReader.open(step.get());
    }
    if (isT5x(path)) {
      return T5xCheckpointReader.open(path);
    }
    if (TfBundleReader.looksLike(path)) {
      return TfBundleReader.open(path);
    }
    Optional<Path> named = checkpointFile(path);
    if (named.isPresent()) {
      return openCheckpointFile(path, named.get());
    }
    throw new CheckpointFormatException(path, null, "no supported checkpoint found: expected a TF tensor bundle"
        + " (prefix, .index file, folder with a 'checkpoint' state file, SavedModel folder with variables/)"
        + ", a T5X checkpoint folder (msgpack file 'checkpoint') or a Hugging Face folder (config.json with "
        + HfFolders.SAFETENSORS + ", " + HfFolders.SAFETENSORS_INDEX + " or " + HfFolders.FLAX + ")");
  }

  /** The file named {@code checkpoint} that {@code path} is or holds (present, perhaps as a link), if any. */
  private static Optional<Path> checkpointFile(Path path) {
    Path file = Files.isDirectory(path) ? path.resolve(T5xCheckpointReader.MSGPACK_FILE) : path;
    boolean named = file.getFileName() != null
        && file.getFileName().toString().equals(T5xCheckpointReader.MSGPACK_FILE);
    return named && Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? Optional.of(file) : Optional.empty();
  }

  /**
   * A file named {@code checkpoint} that neither format took (an unreadable, empty or corrupt T5X
   * msgpack file, or a TF state file that is garbage or names a missing prefix): it is opened as
   * the format its first byte says, so the error names the file and what is wrong with it rather
   * than "no supported checkpoint found". Binary (a msgpack value other than a map): T5X; text: TF.
   */
  private static CheckpointReader openCheckpointFile(Path path, Path file) throws IOException {
    int first;
    try (var in = Files.newInputStream(file)) {
      first = in.read();
    } catch (IOException e) {
      throw FileErrors.cannotRead(file, null, e);
    }
    if (first < 0) {
      throw new CheckpointFormatException(file, null, "is empty (0 bytes): expected a T5X msgpack checkpoint or a"
          + " TF checkpoint state file (model_checkpoint_path: \"...\")");
    }
    boolean text = first >= 0x20 && first < 0x7f || first == '\t' || first == '\n' || first == '\r';
    return text ? TfBundleReader.open(path) : T5xCheckpointReader.open(path);
  }

  /** What {@link #open} detected about a reader it returned. */
  public static Detected detected(RenamingReader reader) {
    CheckpointReader inner = reader.inner();
    Path index = inner.source();
    Map<String, String> placeholders = Map.of();
    List<String> unusedSlots = List.of();
    List<Path> missingShards = List.of();
    if (inner instanceof TfBundleReader tf) {
      index = tf.prefix().resolveSibling(tf.prefix().getFileName() + ".index");
      missingShards = tf.missingShards().stream().map(TfBundleReader.MissingShard::file).toList();
    } else if (inner instanceof T5xCheckpointReader t5x) {
      index = t5x.source().resolve(T5xCheckpointReader.MSGPACK_FILE);
      placeholders = t5x.placeholders();
      unusedSlots = List.copyOf(t5x.unusedAdafactorSlots());
    }
    return new Detected(inner.format(), reader.naming(), inner.source(), index, inner.tensors().size(),
        reader.tensors().size(), reader.dropped().stream().map(e -> e.stored().name()).toList(),
        reader.unmapped().stream().map(e -> e.stored().name()).toList(), placeholders, unusedSlots, missingShards);
  }

  /**
   * A Hugging Face folder under canonical names: {@code config.json} gives the architecture
   * ({@link HfConfig}), the weights ({@code model.safetensors}, sharded, or {@code flax_model.msgpack})
   * are renamed and transposed one tensor at a time ({@link HfCanonicalReader}).
   */
  private static HfCanonicalReader openHf(HfFolders.HfFolder folder) throws IOException {
    Path config = folder.config().orElseThrow(() -> new CheckpointFormatException(folder.dir(), null,
        "holds Hugging Face weights (" + folder.weights().getFileName() + ") but no " + HfFolders.CONFIG
            + ": the architecture and its sizes come from it"));
    HfConfig parsed = HfConfig.read(config);
    CheckpointReader stored = folder.open();
    try {
      return HfCanonicalReader.open(stored, parsed);
    } catch (IOException | RuntimeException e) {
      stored.close();
      throw e;
    }
  }

  /** The {@code checkpoint_<step>} T5X folder with the highest step directly inside {@code dir}, if any. */
  public static Optional<Path> latestT5xStep(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (var list = Files.list(dir)) {
      return list.filter(p -> T5X_STEP.matcher(p.getFileName().toString()).matches() && isT5x(p))
          .max(java.util.Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(11))));
    }
  }

  /** A folder (or file) holding a T5X msgpack {@code checkpoint} (not a TF text state file). */
  static boolean isT5x(Path path) {
    Path file = Files.isDirectory(path) ? path.resolve(T5xCheckpointReader.MSGPACK_FILE) : path;
    if (!Files.isRegularFile(file) || !file.getFileName().toString().equals(T5xCheckpointReader.MSGPACK_FILE)) {
      return false;
    }
    try (var in = Files.newInputStream(file)) {
      int b = in.read();
      // a msgpack map starts with 0x80-0x8f, 0xde or 0xdf; a TF state file with 'm' (model_checkpoint_path)
      return b >= 0x80 && b <= 0x8f || b == 0xde || b == 0xdf;
    } catch (IOException e) {
      return false;
    }
  }
}
