package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.CheckpointWriter;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.OutputWriteException;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.names.NameMap;
import dev.upcycle.ckpt.names.T5xNames;
import dev.upcycle.ckpt.t5x.T5xCheckpointWriter;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.MoeConfig;
import dev.upcycle.model.names.CanonicalNames;
import dev.upcycle.provenance.ArtifactSpec;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.provenance.Sources;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Converts a dense checkpoint into an MoE checkpoint on disk, streaming one tensor at a time: open
 * the source under canonical names ({@link CheckpointFormats}), build and check the plan (nothing
 * is written when the check fails or on a dry run), then read each source tensor, make its target
 * ({@link ExpertTensors}) and hand it to the writer.
 *
 * <p><b>Atomic output.</b> {@code to} is published with {@link AtomicFolder}: the writer fills its
 * stage (a TF bundle {@code model.ckpt-<step>.*} + {@code checkpoint} state file, or T5X {@code
 * checkpoint_<step>/}), {@code provenance.json} is written beside, and the stage is fsynced and
 * renamed onto {@code to}. Any error removes the stage, so {@code to} either holds the complete
 * result or does not exist (a writer's {@link OutputWriteException}, a full disk say, says so, naming
 * the file); a stage left by a killed run is removed by the next run for the same
 * {@code to}. An existing {@code to} without {@code overwrite} is an error before any work; with
 * it, the old folder is replaced in the same atomic way.
 */
public final class ConvertJob {

  /** The provenance file written into the output folder. */
  public static final String PROVENANCE_FILE = Provenance.FILE;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Opens the writer that writes into {@code folder} (the output's stage: it exists and is empty). */
  @FunctionalInterface
  public interface WriterFactory {
    CheckpointWriter open(Path folder, long step, UpcycleOptions.OutputFormat format) throws IOException;
  }

  /** TF: {@code TfBundleWriter} with prefix {@code folder/model.ckpt-<step>}; T5X: {@code folder/checkpoint_<step>}. */
  public static final WriterFactory DEFAULT_WRITERS = (folder, step, format) -> switch (format) {
    case TF -> TfBundleWriter.create(folder.resolve("model.ckpt-" + step));
    case T5X -> new T5xNamingWriter(T5xCheckpointWriter.create(
        Files.createDirectory(T5xCheckpointWriter.checkpointDir(folder, step))));
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
    Path source = realPath(from);
    Path realTarget = realPath(target);
    checkArgument(!source.startsWith(realTarget), "output %s would contain or replace the source %s", to, from);
    checkArgument(!Files.isDirectory(source) || !realTarget.startsWith(source),
        "output %s is inside the source folder %s: choose a folder outside it", to, from);
    if (!dryRun) {
      AtomicFolder.checkTarget(target, overwrite);
    }
    try (RenamingReader reader = CheckpointFormats.open(from, userMap)) {
      UpcyclePlan plan = PlanBuilder.build(reader, withRecipeRouting(reader, options));
      PlanReport report = PlanCheck.check(plan);
      progress.planned(plan, report);
      report.orThrow();
      long step = readStep(reader);
      if (dryRun) {
        return new ConvertResult(plan, report, false, null, step, 0, 0, 0, Duration.between(start, Instant.now()));
      }
      AtomicFolder stage = AtomicFolder.stage(target, overwrite);
      Path out = stage.path();
      try (stage) {
        PlanExecutor.Result done;
        try (CheckpointWriter writer = writers.open(out, step, options.outputFormat())) {
          done = PlanExecutor.run(plan, reader, writer, progress);
          writer.commit();
        }
        writeProvenance(out, reader, plan, report, step);
        stage.commit();
        progress.committed(target);
        return new ConvertResult(plan, report, true, target, step, done.tensorsWritten(), done.bytesWritten(),
            done.bytesRead(), Duration.between(start, Instant.now()));
      } catch (OutputWriteException e) {
        throw e.afterCleanUp(target, out); // the stage's close has run: say what it left
      }
    }
  }

  /**
   * {@code options} with the routers megatron scaling still lacks set to the routers of the spec
   * convert records for this source (the paper's recipe, {@link ArtifactSpec#upcycled}: ViT Expert
   * Choice C = 2 renormalised; T5 Expert Choice C = 2 in the encoder, top-2 in the decoder; LM
   * top-2). Unchanged when nothing is missing or the source's spec is unknown ({@link PlanBuilder}
   * then reports the missing router).
   */
  public static UpcycleOptions withRecipeRouting(RenamingReader reader, UpcycleOptions options) throws IOException {
    if (!options.granularScaling().needsRouting()) {
      return options;
    }
    ArtifactSpec source = ArtifactSpec.of(reader, reader.source());
    if (source.spec().isEmpty()) {
      return options;
    }
    MoeConfig moe = ArtifactSpec.upcycled(source.spec().get().arch(), options.numExperts(), options.encoderLayout(),
        options.decoderLayout()).moe().orElseThrow();
    return options.withGranularScaling(options.granularScaling().withDefaultRouting(moe.encoderRouter(),
        moe.decoderRouter()));
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
    ArtifactSpec source = ArtifactSpec.of(reader, reader.source());
    Optional<Provenance> parent = source.provenance();
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

  /**
   * {@code p} absolute and normalised, with its longest existing ancestor resolved through symlinks
   * (so a symlinked parent cannot hide that the output lies inside the source).
   */
  private static Path realPath(Path p) throws IOException {
    Path abs = p.toAbsolutePath().normalize();
    Path existing = abs;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    return existing == null ? abs : existing.toRealPath().resolve(existing.relativize(abs)).normalize();
  }
}
