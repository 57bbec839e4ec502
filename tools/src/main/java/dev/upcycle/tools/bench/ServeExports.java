package dev.upcycle.tools.bench;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.ArchitectureConfig;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.T5Config;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.model.arch.ModelGraph;
import dev.upcycle.model.graph.ModelVariable;
import dev.upcycle.plan.ConvertJob;
import dev.upcycle.plan.ProgressListener;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.provenance.ArtifactSpec;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.savedmodels.ExportOptions;
import dev.upcycle.savedmodels.SavedModelExporter;
import dev.upcycle.train.ckpt.CheckpointManager;
import dev.upcycle.train.ckpt.TensorBytes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import org.tensorflow.types.TFloat32;

/**
 * The SavedModels {@code bench serve} measures, made as a user makes them: a dense checkpoint of
 * fresh weights (a model graph's initial values, saved as a TF bundle with the provenance a
 * training run from scratch records before its first step: kind TRAIN, no source, its spec), upcycled with the
 * converter ({@link ConvertJob}, E experts on every other layer of each stack, the decoder of a
 * ViT has none), and both exported ({@link SavedModelExporter}) as model bases {@code dense/} and
 * {@code moe/} with version 1.
 *
 * @param dense the dense base
 * @param moe the upcycled base
 * @param moeSpec what the converter recorded for the upcycled checkpoint
 * @param moeCheckpoint the upcycled checkpoint
 */
public record ServeExports(Path dense, Path moe, ModelSpec moeSpec, Path moeCheckpoint) {

  /** Checkpoint step of the fresh weights (the bundle is {@code model.ckpt-1}). */
  static final long STEP = 1;
  /** Graph seed of the fresh weights. */
  static final long SEED = 7;

  public ServeExports {
    checkNotNull(dense, "dense");
    checkNotNull(moe, "moe");
    checkNotNull(moeSpec, "moeSpec");
    checkNotNull(moeCheckpoint, "moeCheckpoint");
  }

  /**
   * Writes, converts and exports {@code config} under {@code work}.
   *
   * @param options the export's batch, input length and target length
   */
  public static ServeExports make(ArchitectureConfig config, int experts, ExportOptions options, Path work,
      Consumer<String> progress) throws IOException {
    checkArgument(experts >= 2, "experts must be >= 2, got %s", experts);
    ModelSpec denseSpec = ModelSpec.dense(config);
    Path denseCkpt = work.resolve("dense-ckpt");
    progress.accept("fresh weights for the dense " + config.getClass().getSimpleName() + " -> " + denseCkpt);
    writeFresh(denseSpec, denseCkpt);
    Path moeCheckpoint = work.resolve("moe-ckpt");
    SparseLayout decoder = config instanceof VitConfig ? SparseLayout.DENSE : SparseLayout.EVERY_OTHER;
    UpcycleOptions upcycle = UpcycleOptions.defaults(experts).withLayouts(SparseLayout.EVERY_OTHER, decoder);
    progress.accept("upcycling to " + experts + " experts -> " + moeCheckpoint);
    ConvertJob.run(denseCkpt, moeCheckpoint, upcycle, Optional.empty(), false, false, ProgressListener.NONE);
    ArtifactSpec recorded = ArtifactSpec.of(moeCheckpoint);
    ModelSpec moeSpec = recorded.spec().orElseThrow(() -> new IllegalStateException(moeCheckpoint
        + ": the converter recorded no model spec (" + recorded.reason() + ")"));
    Path dense = work.resolve("dense");
    Path moe = work.resolve("moe");
    progress.accept("exporting " + dense + " and " + moe);
    SavedModelExporter.export(denseSpec, denseCkpt, dense, options, null, line -> { });
    SavedModelExporter.export(moeSpec, moeCheckpoint, moe, options, null, line -> { });
    return new ServeExports(dense, moe, moeSpec, moeCheckpoint);
  }

  /**
   * Exports the upcycled checkpoint again to {@code base} with the eval capacity factor
   * {@code options.evalCapacityFactor()} (&gt; 0) and returns the model that export serves.
   */
  public ModelSpec exportEval(ExportOptions options, Path base) throws IOException {
    checkArgument(options.evalCapacityFactor() > 0, "an eval export needs an eval capacity factor, got %s",
        options.evalCapacityFactor());
    SavedModelExporter.export(moeSpec, moeCheckpoint, base, options, null, line -> { });
    return options.servingSpec(moeSpec);
  }

  /** The initial values of {@code spec}'s graph as a TF bundle {@code folder/model.ckpt-1}. */
  static void writeFresh(ModelSpec spec, Path folder) throws IOException {
    int length = spec.arch() instanceof T5Config ? 2 : 1;
    try (ModelGraph<TFloat32> g = ModelGraph.build(spec, new BatchShape(1, length, length), TFloat32.class, false,
        SEED, false, false).initialize();
        TfBundleWriter w = TfBundleWriter.create(CheckpointManager.prefix(Files.createDirectories(folder), STEP))) {
      for (ModelVariable<TFloat32> v : g.store.variables()) {
        try (TFloat32 t = g.store.fetch(g.session, v.name())) {
          w.write(TensorBytes.toRaw(v.name(), t));
        }
      }
      w.commit();
    }
    ObjectNode options = Provenance.newOptions();
    options.put("steps", 0);
    options.put("init", "the graph's initializers");
    options.put("seed", SEED);
    Provenance.of(Provenance.Kind.TRAIN, null, options, spec, null).withOutputsOf(folder).writeTo(folder);
  }
}
