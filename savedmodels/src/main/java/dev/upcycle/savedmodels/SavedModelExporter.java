package dev.upcycle.savedmodels;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.CheckpointReader;
import dev.upcycle.ckpt.DType;
import dev.upcycle.ckpt.RawTensor;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.BuildInfo;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.model.names.CanonicalNames;
import dev.upcycle.plan.FloatCodec;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.provenance.Sources;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Exports a checkpoint (TF bundle with canonical names: a training step folder, a converted
 * checkpoint) as a TF Serving SavedModel, {@code <base>/<version>/}:
 * {@code saved_model.pb} (tag {@code serve}, the {@link ServingGraph}, its signatures and a
 * {@link SaverDef}), {@code variables/variables.{index,data-*}} (every weight the graph uses, read
 * and written one tensor at a time, as float32, under its canonical name) and
 * {@code assets.extra/provenance.json}.
 *
 * <p>Checked before anything is written: every variable of the serving graph is in the checkpoint
 * with the same shape and a float dtype, and the checkpoint has no other model weight (optimizer
 * state {@code state/...} is left out). The version folder is assembled in its {@link AtomicFolder}
 * stage, loaded from there with TensorFlow's own SavedModel loader and run once (unless {@code
 * verify} is off), and published by the stage's commit: {@code <base>/<version>} holds a complete
 * SavedModel or does not exist (with overwrite, the old version stays until the new one replaces it).
 */
public final class SavedModelExporter {

  public static final String SERVE_TAG = "serve";
  /** The provenance file, in {@code assets.extra/}. */
  public static final String PROVENANCE_FILE = Provenance.FILE;

  /** The provenance option holding the export's batch, the most examples one run of its graph takes. */
  public static final String BATCH_OPTION = "batch";

  /** The provenance option holding the export's eval capacity factor, when one was set. */
  public static final String EVAL_CAPACITY_FACTOR_OPTION = "eval_capacity_factor";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** What was exported. */
  public record ExportResult(Path versionDir, int variables, long variableBytes, boolean verified, Duration took) {}

  private SavedModelExporter() {}

  /**
   * Exports {@code checkpoint} as the model {@code trained} to {@code base/<version>}; the serving
   * graph computes {@link ExportOptions#servingSpec} of it (the trained model unless an eval
   * capacity factor is set), and the provenance records that spec.
   *
   * @param config the run config to record in the provenance (e.g. the step folder's config.json), or null
   * @param log progress lines
   * @throws FileAlreadyExistsException when the version folder exists and overwrite is off
   * @throws CheckpointFormatException when the checkpoint does not hold the model's weights
   */
  public static ExportResult export(ModelSpec trained, Path checkpoint, Path base, ExportOptions options,
      JsonNode config, Consumer<String> log) throws IOException {
    checkNotNull(trained, "spec");
    checkNotNull(checkpoint, "checkpoint");
    checkNotNull(base, "base");
    checkNotNull(options, "options");
    checkNotNull(log, "log");
    ModelSpec spec = options.servingSpec(trained); // what the serving graph computes
    Instant start = Instant.now();
    Path versionDir = base.toAbsolutePath().normalize().resolve(Long.toString(options.version()));
    AtomicFolder.checkTarget(versionDir, options.overwrite());
    log.accept("building the serving graph (" + spec.arch().getClass().getSimpleName() + ", batch " + options.batch()
        + (options.evalCapacityFactor() > 0 ? ", eval capacity factor " + options.evalCapacityFactor()
            + ": routing differs from training" : "") + ")");
    try (ServingGraph serving = ServingGraph.build(spec, options.batch(), options.length(), options.targetLength());
        RenamingReader reader = CheckpointFormats.open(checkpoint, Optional.empty())) {
      Path prefix = CheckpointFormats.detected(reader).indexFile(); // names the checkpoint in errors
      List<ModelVariable<org.tensorflow.types.TFloat32>> vars = serving.store.variables();
      checkWeights(prefix, reader, vars);
      SaverDef saver = VariableSaver.addTo(Ops.create(serving.graph), serving.store);

      try (AtomicFolder stage = AtomicFolder.stage(versionDir, options.overwrite())) {
        Path out = stage.path();
        long bytes = writeVariables(reader, vars, out, log);
        writeSavedModel(serving, saver, out.resolve("saved_model.pb"));
        writeProvenance(out, spec, reader, options, config, serving);
        boolean verified = false;
        if (options.verify()) {
          log.accept("loading the SavedModel with TensorFlow and running one request");
          ExportVerifier.verify(out, spec, options.batch(), options.length(), options.targetLength());
          verified = true;
        }
        stage.commit();
        log.accept("exported " + vars.size() + " variables to " + versionDir);
        return new ExportResult(versionDir, vars.size(), bytes, verified, Duration.between(start, Instant.now()));
      }
    }
  }

  private static <T extends org.tensorflow.types.family.TFloating> void checkWeights(Path prefix, CheckpointReader reader,
      List<ModelVariable<T>> vars) throws IOException {
    Map<String, TensorInfo> stored = new HashMap<>();
    reader.tensors().forEach(t -> stored.put(t.name(), t));
    List<String> missing = new ArrayList<>();
    for (ModelVariable<T> v : vars) {
      TensorInfo have = stored.remove(v.name());
      if (have == null) {
        missing.add(v.name());
        continue;
      }
      if (!Arrays.equals(have.shape(), v.shape())) {
        throw new CheckpointFormatException(prefix, v.name(), "has shape " + Arrays.toString(have.shape())
            + "; the serving model expects " + Arrays.toString(v.shape()) + " (is the config the checkpoint's?)");
      }
      if (!have.dtype().isFloating()) {
        throw new CheckpointFormatException(prefix, v.name(), "is " + have.dtype() + "; a float weight was expected");
      }
    }
    List<String> extra = stored.keySet().stream().filter(n -> !CanonicalNames.isState(n)).sorted().toList();
    if (!missing.isEmpty() || !extra.isEmpty()) {
      missing.sort(null);
      throw new CheckpointFormatException(prefix, null, String.format(
          "does not match the serving model: %d variable(s) missing%s; %d weight(s) the model does not have%s"
              + " (is the config the one the checkpoint was trained or converted with?)",
          missing.size(), preview(missing), extra.size(), preview(extra)));
    }
  }

  /** Streams every variable into {@code out/variables/variables.*} as float32; returns the bytes written. */
  private static <T extends org.tensorflow.types.family.TFloating> long writeVariables(CheckpointReader reader,
      List<ModelVariable<T>> vars, Path out, Consumer<String> log) throws IOException {
    long bytes = 0;
    int done = 0;
    Path folder = Files.createDirectory(out.resolve("variables"));
    try (TfBundleWriter writer = TfBundleWriter.create(folder.resolve("variables"))) {
      for (ModelVariable<T> v : vars) {
        RawTensor t = asFloat32(reader.read(v.name()));
        writer.write(t);
        bytes += t.info().byteSize();
        done++;
        if (done % 50 == 0 || done == vars.size()) {
          log.accept(String.format("variables %d/%d (%.1f MB)", done, vars.size(), bytes / 1e6));
        }
      }
      writer.commit();
    }
    // a SavedModel's variables folder holds only the bundle
    Files.deleteIfExists(folder.resolve(TfBundleWriter.STATE_FILE_NAME));
    return bytes;
  }

  private static RawTensor asFloat32(RawTensor t) {
    TensorInfo info = t.info();
    if (info.dtype() == DType.FLOAT32) {
      return t;
    }
    int n = Math.toIntExact(info.numElements());
    double[] values = FloatCodec.decode(t.data(), info.dtype(), 0, n);
    ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(n, 4)).order(ByteOrder.LITTLE_ENDIAN);
    FloatCodec.encode(values, DType.FLOAT32, buf, 0);
    return new RawTensor(new TensorInfo(info.name(), DType.FLOAT32, info.shape()), buf.rewind());
  }

  private static void writeSavedModel(ServingGraph serving, SaverDef saver, Path file) throws IOException {
    MetaGraphDef.Builder meta = MetaGraphDef.newBuilder()
        .setMetaInfoDef(MetaGraphDef.MetaInfoDef.newBuilder()
            .addTags(SERVE_TAG)
            .setTensorflowVersion(BuildInfo.TENSORFLOW_RUNTIME_VERSION))
        .setGraphDef(serving.graph.toGraphDef())
        .setSaverDef(saver);
    for (Map.Entry<String, ServingGraph.SignatureTensors> e : serving.signatures.entrySet()) {
      SignatureDef.Builder sig = SignatureDef.newBuilder().setMethodName(ServingGraph.PREDICT_METHOD);
      e.getValue().inputs().forEach((k, op) -> sig.putInputs(k, tensorInfo(op)));
      e.getValue().outputs().forEach((k, op) -> sig.putOutputs(k, tensorInfo(op)));
      meta.putSignatureDef(e.getKey(), sig.build());
    }
    SavedModel model = SavedModel.newBuilder().setSavedModelSchemaVersion(1).addMetaGraphs(meta).build();
    Files.write(file, model.toByteArray(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private static org.tensorflow.proto.TensorInfo tensorInfo(Operand<?> op) {
    org.tensorflow.Output<?> o = op.asOutput();
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : o.shape().asArray()) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return org.tensorflow.proto.TensorInfo.newBuilder()
        .setName(o.op().name() + ":" + o.index())
        .setDtype(DataType.forNumber(o.dataType().getNumber()))
        .setTensorShape(shape)
        .build();
  }

  /**
   * {@code assets.extra/provenance.json}: the checkpoint as source, its own record as parent (so the
   * chain reads export ← train ← convert), the model spec, the export options and signatures.
   */
  private static void writeProvenance(Path out, ModelSpec spec, RenamingReader reader, ExportOptions options,
      JsonNode config, ServingGraph serving) throws IOException {
    ObjectNode o = Provenance.newOptions();
    o.put("version", options.version());
    o.put(BATCH_OPTION, options.batch());
    if (spec.arch() instanceof dev.upcycle.model.LmConfig || spec.arch() instanceof dev.upcycle.model.T5Config) {
      o.put("length", options.length());
    }
    if (spec.arch() instanceof dev.upcycle.model.T5Config) {
      o.put("target_length", options.targetLength());
    }
    if (options.evalCapacityFactor() > 0) {
      o.put(EVAL_CAPACITY_FACTOR_OPTION, options.evalCapacityFactor());
    }
    o.put("parameters", serving.store.parameterCount());
    if (config != null) {
      o.set("config", config);
    }
    ObjectNode sigs = o.putObject("signatures");
    serving.signatures.forEach((k, s) -> {
      ObjectNode n = sigs.putObject(k);
      s.inputs().keySet().forEach(n.putArray("inputs")::add);
      s.outputs().keySet().forEach(n.putArray("outputs")::add);
    });
    Provenance record = Provenance.of(Provenance.Kind.EXPORT, Sources.of(CheckpointFormats.detected(reader)), o, spec,
        Provenance.find(reader.source()).orElse(null));
    Path dir = Files.createDirectories(out.resolve(Provenance.SAVED_MODEL_FILE).getParent());
    record.withOutputsOf(out).writeTo(dir);
  }

  private static String preview(List<String> names) {
    if (names.isEmpty()) {
      return "";
    }
    List<String> head = names.subList(0, Math.min(5, names.size()));
    return " (" + String.join(", ", head) + (names.size() > head.size() ? ", ..." : "") + ")";
  }

}
