package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.CheckpointWriter;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.Folders;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.names.NameMap;
import dev.upcycle.ckpt.names.T5xNames;
import dev.upcycle.ckpt.t5x.T5xCheckpointWriter;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.names.CanonicalNames;
import dev.upcycle.provenance.ArtifactSpec;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.provenance.Sources;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Converts a dense checkpoint into an MoE checkpoint on disk, streaming one tensor at a time: open
 * the source under canonical names ({@link CheckpointFormats}), build and check the plan (nothing
 * is written when the check fails or on a dry run), then read each source tensor, make its target
 * ({@link ExpertTensors}) and hand it to the writer.
 *
 * <p><b>Atomic output.</b> Everything goes to a staging folder beside {@code to},
 * {@code .<name>.convert-<pid>-<random>/}: the writer commits {@code out/} there (a TF bundle
 * {@code out/model.ckpt-<step>.*} + {@code checkpoint} state file, or T5X {@code
 * out/checkpoint_<step>/}), {@code provenance.json} is written into {@code out/}, and {@code out}
 * is renamed to {@code to} in one atomic move; the staging folder is then removed. Any error
 * removes it too, so {@code to} either holds the complete result or does not exist. A process
 * killed outright (kill -9) leaves its staging folder behind: the next run for the same {@code to}
 * removes staging folders whose process is no longer alive.
 *
 * <p>An existing {@code to} without {@code overwrite} is an error before any work. With it, the
 * old folder is moved into the staging folder, the new one moved into place, then the old one
 * deleted.
 */
public final class ConvertJob {

  /** The provenance file written into the output folder. */
  public static final String PROVENANCE_FILE = Provenance.FILE;

  private static final Pattern STAGING = Pattern.compile("\\.(.+)\\.convert-(\\d+)-[0-9a-f]+");
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Opens the writer that produces {@code folder} (which does not exist yet) on commit. */
  @FunctionalInterface
  public interface WriterFactory {
    CheckpointWriter open(Path folder, long step, UpcycleOptions.OutputFormat format) throws IOException;
  }

  /** TF: {@code TfBundleWriter} with prefix {@code folder/model.ckpt-<step>}; T5X: {@code folder/checkpoint_<step>}. */
  public static final WriterFactory DEFAULT_WRITERS = (folder, step, format) -> switch (format) {
    case TF -> TfBundleWriter.create(folder.resolve("model.ckpt-" + step), false);
    case T5X -> new T5xNamingWriter(T5xCheckpointWriter.create(T5xCheckpointWriter.checkpointDir(folder, step), false));
  };

  private final WriterFactory writers;

  public ConvertJob(WriterFactory writers) {
    this.writers = checkNotNull(writers, "writers");
  }

  /** {@link #convert} with the default writers. */
  public static ConvertResult run(Path from, Path to, UpcycleOptions options, Optional<NameMap> userMap,
      boolean dryRun, boolean overwrite, ProgressListener progress) throws IOException {
    return new ConvertJob(DEFAULT_WRITERS).convert(from, to, options, userMap, dryRun, overwrite, progress);
  }

  /**
   * Converts {@code from} into the folder {@code to}.
   *
   * @throws FileAlreadyExistsException when {@code to} exists and {@code overwrite} is false
   * @throws PlanCheckException when the plan fails its check (nothing written)
   * @throws IOException when reading or writing fails (nothing left at {@code to})
   */
  public ConvertResult convert(Path from, Path to, UpcycleOptions options, Optional<NameMap> userMap,
      boolean dryRun, boolean overwrite, ProgressListener progress) throws IOException {
    checkNotNull(from, "from");
    checkNotNull(to, "to");
    checkNotNull(options, "options");
    checkNotNull(userMap, "userMap");
    checkNotNull(progress, "progress");
    Instant start = Instant.now();
    Path target = to.toAbsolutePath().normalize();
    checkArgument(target.getParent() != null && target.getFileName() != null, "output %s must be a folder below the root",
        to);
    checkArgument(!from.toAbsolutePath().normalize().startsWith(target),
        "output %s would contain or replace the source %s", to, from);
    if (!dryRun && Files.exists(target) && !overwrite) {
      throw new FileAlreadyExistsException(target.toString(), null,
          "output folder already exists; pass overwrite to replace it and everything in it");
    }
    try (RenamingReader reader = CheckpointFormats.open(from, userMap)) {
      UpcyclePlan plan = PlanBuilder.build(reader, options);
      PlanReport report = PlanCheck.check(plan);
      progress.planned(plan, report);
      report.orThrow();
      long step = readStep(reader);
      if (dryRun) {
        return new ConvertResult(plan, report, false, null, step, 0, 0, 0, Duration.between(start, Instant.now()));
      }
      Files.createDirectories(target.getParent());
      removeStaleStaging(target);
      Path staging = Files.createDirectory(target.resolveSibling(
          "." + target.getFileName() + ".convert-" + ProcessHandle.current().pid() + "-" + Folders.randomSuffix()));
      try {
        Path out = staging.resolve("out");
        PlanExecutor.Result done;
        try (CheckpointWriter writer = writers.open(out, step, options.outputFormat())) {
          done = PlanExecutor.run(plan, reader, writer, progress);
          writer.commit();
        }
        writeProvenance(out, reader, plan, report, step);
        publish(staging, out, target, overwrite);
        progress.committed(target);
        return new ConvertResult(plan, report, true, target, step, done.tensorsWritten(), done.bytesWritten(),
            done.bytesRead(), Duration.between(start, Instant.now()));
      } finally {
        Folders.deleteTree(staging);
      }
    }
  }

  /** The step counter's value ({@code state/step}, int32 or int64 scalar), 0 when absent. */
  static long readStep(RenamingReader reader) throws IOException {
    Optional<TensorInfo> info = reader.tensors().stream().filter(t -> t.name().equals(CanonicalNames.STEP)).findFirst();
    if (info.isEmpty()) {
      return 0;
    }
    TensorInfo t = info.get();
    if (t.numElements() != 1 || t.dtype() != DType.INT32 && t.dtype() != DType.INT64) {
      throw new IOException(reader.source() + ": step counter " + t + " is not an int32/int64 scalar");
    }
    ByteBuffer b = reader.read(t.name()).data().order(ByteOrder.LITTLE_ENDIAN);
    return t.dtype() == DType.INT32 ? b.getInt(0) : b.getLong(0);
  }

  private static void publish(Path staging, Path out, Path target, boolean overwrite) throws IOException {
    syncDir(out);
    if (!Files.exists(target)) {
      Files.move(out, target, StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    if (!overwrite) {
      throw new FileAlreadyExistsException(target.toString(), null, "output folder appeared while converting");
    }
    Path old = staging.resolve("old");
    Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
    try {
      Files.move(out, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
      throw e;
    }
  }

  private static void writeProvenance(Path out, RenamingReader reader, UpcyclePlan plan, PlanReport report, long step)
      throws IOException {
    CheckpointFormats.Detected d = CheckpointFormats.detected(reader);
    Provenance.Source source = Sources.of(d);
    ObjectNode options = Provenance.newOptions();
    options.set("upcycle", JSON.valueToTree(plan.options().asMap()));
    options.put("naming", d.naming());
    options.put("tensors_stored", d.stored());
    options.put("tensors_dropped_by_name_map", d.dropped().size());
    ObjectNode p = options.putObject("plan");
    for (PlanReport.KindTotal k : report.kinds()) {
      ObjectNode n = p.putObject(k.kind().name().toLowerCase(java.util.Locale.ROOT));
      n.put("tensors", k.count());
      n.put("bytes_read", k.bytesRead());
      n.put("bytes_written", k.bytesWritten());
    }
    options.put("step", step);
    options.put("tensors_written", report.targets());
    options.put("bytes_written", report.bytesWritten());
    OutputSpec spec = outputSpec(reader, plan.options());
    if (spec.spec().isEmpty()) {
      options.put("model_spec_not_recorded", spec.reason());
    }
    Provenance.of(Provenance.Kind.CONVERT, source, options, spec.spec().orElse(null), spec.parent().orElse(null))
        .withOutputsOf(out)
        .writeTo(out);
  }

  /**
   * The spec of the converted model and the source's provenance: the source's spec (its
   * provenance, a training step's config.json, or its tensors — {@link ArtifactSpec}) made sparse
   * with the options' experts and layouts. Empty, with the reason, when the source's spec is
   * unknown (a ViT without provenance) or the output has no spec form (granularity > 1: experts
   * narrower than the dense MLP).
   */
  public static OutputSpec outputSpec(RenamingReader reader, UpcycleOptions options) throws IOException {
    Optional<Provenance> parent = Provenance.find(reader.source());
    ArtifactSpec source = parent.flatMap(Provenance::spec).isPresent()
        ? ArtifactSpec.of(reader.source())
        : ArtifactSpec.fromTensors(reader.tensors(), parent);
    if (source.spec().isEmpty()) {
      return new OutputSpec(Optional.empty(), "the source's model spec is unknown: " + source.reason(), parent);
    }
    if (options.granularity() > 1) {
      return new OutputSpec(Optional.empty(), "granularity " + options.granularity()
          + " makes experts narrower than the dense MLP, which a model spec cannot describe", parent);
    }
    ModelSpec dense = source.spec().get();
    return new OutputSpec(Optional.of(ArtifactSpec.upcycled(dense.arch(), options.numExperts(),
        options.encoderLayout(), options.decoderLayout())), "", parent);
  }

  /**
   * The converted model's spec, or why there is none, and the source's own provenance record.
   *
   * @param spec the output's spec
   * @param reason why {@code spec} is empty
   * @param parent the source's provenance
   */
  public record OutputSpec(Optional<ModelSpec> spec, String reason, Optional<Provenance> parent) {}

  /** Removes {@code .<name>.convert-<pid>-*} folders beside {@code target} whose process has ended. */
  static int removeStaleStaging(Path target) throws IOException {
    Path parent = target.getParent();
    if (!Files.isDirectory(parent)) {
      return 0;
    }
    int removed = 0;
    try (Stream<Path> siblings = Files.list(parent)) {
      for (Path p : (Iterable<Path>) siblings::iterator) {
        Matcher m = STAGING.matcher(p.getFileName().toString());
        if (!m.matches() || !m.group(1).equals(target.getFileName().toString()) || !Files.isDirectory(p)) {
          continue;
        }
        long pid = Long.parseLong(m.group(2));
        if (pid == ProcessHandle.current().pid() || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue; // a live conversion (maybe a concurrent job of this process) owns it
        }
        Folders.deleteTree(p);
        removed++;
      }
    }
    return removed;
  }

  private static void syncDir(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(p)) {
          try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.force(true);
          }
        }
      }
    }
  }

  /** Renames canonical names to T5X's ({@code target/...}, {@code state/...}) on the way in. */
  private record T5xNamingWriter(T5xCheckpointWriter inner) implements CheckpointWriter {
    @Override
    public void write(RawTensor tensor) throws IOException {
      inner.write(tensor.withName(T5xNames.toT5x().apply(tensor.name()).orElseThrow()));
    }

    @Override
    public void commit() throws IOException {
      inner.commit();
    }

    @Override
    public void close() throws IOException {
      inner.close();
    }
  }
}
