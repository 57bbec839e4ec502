package dev.upcycle.tools.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.ckpt.Folders;
import dev.upcycle.model.Presets;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.plan.ConvertJob;
import dev.upcycle.plan.ConvertResult;
import dev.upcycle.plan.ProgressListener;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.savedmodels.ExportOptions;
import dev.upcycle.savedmodels.SavedModelExporter;
import dev.upcycle.train.config.CheckpointConfig;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.data.Compression;
import dev.upcycle.train.data.IdxImages;
import dev.upcycle.train.input.TfRecordBatchSource;
import dev.upcycle.train.metrics.StepMetrics;
import dev.upcycle.train.metrics.TrainListener;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.BatchSource;
import dev.upcycle.train.step.EvalJob;
import dev.upcycle.train.step.Evaluator;
import dev.upcycle.train.step.TrainResult;
import dev.upcycle.train.step.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The main job on a built-in default, end to end on real data: Fashion-MNIST (Debian package
 * {@code dataset-fashion-mnist}) → TFRecords → a dense ViT ({@code vit-mnist}) trained from
 * scratch → checkpoint → upcycled to an 8-expert MoE in the last two blocks (Expert Choice C = 2,
 * renormalised combine, Adam state copied to the experts: the paper's vision recipe) → the MoE and
 * a dense continuation trained for the same extra steps → both evaluated on the 10,000 test images
 * → the MoE exported as a TF Serving SavedModel, reloaded with TensorFlow's loader and run on test
 * images.
 */
public final class PipelineDemo {

  /** Sizes of the run. */
  public record Settings(Path workDir, int denseSteps, int extraSteps, int batch, int experts, boolean xla, long seed) {
    public static Settings defaults(Path workDir, boolean xla) {
      return new Settings(workDir, 800, 400, 64, 8, xla, 0);
    }
  }

  /** Test-set results of both branches. */
  public record Outcome(Evaluator.Evaluation dense, Evaluator.Evaluation denseContinued, Evaluator.Evaluation moe) {}

  private final PrintWriter out;
  private final Settings s;

  public PipelineDemo(PrintWriter out, Settings settings) {
    this.out = out;
    this.s = settings;
  }

  public Outcome run() throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    FashionMnist.Files4 data = FashionMnist.locate(out);
    Folders.deleteTree(s.workDir());
    Files.createDirectories(s.workDir());
    IdxImages.Output trainData = IdxImages.toTfRecordFolder(data.trainImages(), data.trainLabels(),
        s.workDir().resolve("data/train"), Compression.NONE);
    IdxImages.Output testData = IdxImages.toTfRecordFolder(data.testImages(), data.testLabels(),
        s.workDir().resolve("data/test"), Compression.NONE);
    Path train = trainData.records();
    Path test = testData.records();
    long nTrain = trainData.examples();
    long nTest = testData.examples();
    out.printf(Locale.ROOT, "data: %,d training and %,d test images as TFRecords in %s%n", nTrain, nTest,
        trainData.folder().getParent());

    VitConfig vit = (VitConfig) Presets.get("vit-mnist");
    int evalBatches = (int) (nTest / s.batch());
    TrainConfig dense = config(Map.of("output_dir", s.workDir().resolve("dense").toString(),
        "train_steps", String.valueOf(s.denseSteps())));
    out.printf(Locale.ROOT, "%n1. dense ViT (%s: %d blocks, d %d) from scratch for %d steps of %d images%n",
        "vit-mnist", vit.layers(), vit.dModel(), s.denseSteps(), s.batch());
    TrainResult denseRun = train(dense, train, Optional.empty());
    Path denseCkpt = denseRun.checkpoints().get(denseRun.checkpoints().size() - 1);
    Evaluator.Evaluation denseEval = eval(dense, denseCkpt, test, evalBatches);
    out.printf(Locale.ROOT, "   test: loss %.4f, accuracy %.2f%% (checkpoint %s)%n", denseEval.loss(),
        100 * denseEval.accuracy(), denseCkpt);

    Path moeInit = s.workDir().resolve("moe-init");
    UpcycleOptions options = UpcycleOptions.defaults(s.experts()).withLayouts(SparseLayout.lastN(2), SparseLayout.DENSE)
        .withOptimizerState(UpcycleOptions.OptimizerState.COPY).withSeed(s.seed());
    ConvertResult converted = ConvertJob.run(denseCkpt, moeInit, options, Optional.empty(), false, false,
        ProgressListener.NONE);
    out.printf(Locale.ROOT, "%n2. upcycled: %d experts in blocks 2 and 3, Adam state tiled to the experts, fresh routers;"
        + " %d tensors, %.1f MB, step %d carried -> %s%n", s.experts(), converted.tensorsWritten(),
        converted.bytesWritten() / 1e6, converted.step(), moeInit);

    long total = s.denseSteps() + s.extraSteps();
    // the model comes from the converted checkpoint's provenance (E experts in the last 2 blocks, Expert
    // Choice C = 2 with renormalised combine weights: the paper's vision recipe); only the job is set here
    TrainConfig moe = CheckpointConfig.resolve(moeInit, Optional.empty(), settings(Map.of("output_dir",
        s.workDir().resolve("moe").toString(), "train_steps", String.valueOf(total))), false).config();
    out.printf(Locale.ROOT, "%n3. MoE ViT for %d more steps (Expert Choice C = 2, renormalised)%n", s.extraSteps());
    TrainResult moeRun = train(moe, train, Optional.of(moeInit));
    TrainConfig cont = config(Map.of("output_dir", s.workDir().resolve("dense-continued").toString(),
        "train_steps", String.valueOf(total)));
    out.printf(Locale.ROOT, "%n4. dense continuation for the same %d steps%n", s.extraSteps());
    TrainResult contRun = train(cont, train, Optional.of(denseCkpt));

    Evaluator.Evaluation moeEval = eval(moe, last(moeRun), test, evalBatches);
    Evaluator.Evaluation contEval = eval(cont, last(contRun), test, evalBatches);
    out.printf(Locale.ROOT, "%nResults on the %,d Fashion-MNIST test images (step %d -> %d):%n", evalBatches * s.batch(),
        s.denseSteps(), total);
    out.printf(Locale.ROOT, "  %-34s loss %.4f  accuracy %6.2f%%%n", "dense at step " + s.denseSteps(), denseEval.loss(),
        100 * denseEval.accuracy());
    out.printf(Locale.ROOT, "  %-34s loss %.4f  accuracy %6.2f%%%n", "dense continuation", contEval.loss(),
        100 * contEval.accuracy());
    out.printf(Locale.ROOT, "  %-34s loss %.4f  accuracy %6.2f%%%n", "upcycled MoE (" + s.experts() + " experts)",
        moeEval.loss(), 100 * moeEval.accuracy());

    Path exportBase = s.workDir().resolve("export/vit_moe");
    SavedModelExporter.ExportResult exported = SavedModelExporter.export(moe.modelSpec(), last(moeRun), exportBase,
        ExportOptions.defaults().withBatch(s.batch()), new ObjectMapper().readTree(moe.toJson()), line -> { });
    double served = servedAccuracy(exported.versionDir(), moe, test);
    out.printf(Locale.ROOT, "%n5. exported the MoE for TF Serving: %s (serving_default: images -> logits,"
        + " probabilities, classes; score); reloaded with TensorFlow's SavedModel loader, first %d test images:"
        + " accuracy %.2f%%%n", exported.versionDir(), s.batch(), 100 * served);
    out.printf(Locale.ROOT, "done in %.0f s; run folders under %s%n", (System.nanoTime() - t0) / 1e9, s.workDir());
    return new Outcome(denseEval, contEval, moeEval);
  }

  /** The dense ViT's config: the preset plus the demo's settings. */
  private TrainConfig config(Map<String, String> overrides) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("model.preset", "vit-mnist");
    all.putAll(settings(overrides));
    return TrainConfig.defaults().withOverrides(all);
  }

  /** The demo's job settings (batch, optimizer, schedule, checkpoints, seed, XLA), then {@code overrides}. */
  private Map<String, String> settings(Map<String, String> overrides) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("batch_size", String.valueOf(s.batch()));
    all.put("optimizer.name", "adamw");
    all.put("optimizer.adamw.weight_decay", "0.0001");
    all.put("schedule.kind", "constant");
    all.put("schedule.base", "0.001");
    all.put("checkpoint_every", "100000");
    all.put("keep_checkpoints", "1");
    all.put("log_every", "100");
    all.put("seed", String.valueOf(s.seed()));
    all.put("xla", String.valueOf(s.xla()));
    all.putAll(overrides);
    return all;
  }

  private TrainResult train(TrainConfig config, Path data, Optional<Path> init) throws IOException {
    VitConfig vit = (VitConfig) config.modelSpec().arch();
    try (BatchSource source = new TfRecordBatchSource(TfRecordBatchSource.Options.images(List.of(data),
        config.batchShape(), vit.imageSize(), vit.imageSize(), vit.channels(), config.seed()))) {
      return Trainer.run(config, source, init, false, new Lines(config.logEvery(), vit.sequenceLength()));
    }
  }

  private Evaluator.Evaluation eval(TrainConfig config, Path checkpoint, Path data, int batches) throws IOException {
    VitConfig vit = (VitConfig) config.modelSpec().arch();
    BatchShape shape = config.batchShape();
    try (BatchSource source = new TfRecordBatchSource(TfRecordBatchSource.Options.images(List.of(data), shape,
        vit.imageSize(), vit.imageSize(), vit.channels(), 0).withShuffleBuffer(1))) {
      return EvalJob.run(config, checkpoint, source, batches);
    }
  }

  /** Top-1 accuracy of the exported SavedModel on the first batch of {@code data}. */
  private double servedAccuracy(Path savedModel, TrainConfig config, Path data) throws IOException {
    VitConfig vit = (VitConfig) config.modelSpec().arch();
    try (BatchSource source = new TfRecordBatchSource(TfRecordBatchSource.Options.images(List.of(data),
        config.batchShape(), vit.imageSize(), vit.imageSize(), vit.channels(), 0).withShuffleBuffer(1));
        Batch batch = source.nextBatch(0);
        SavedModelBundle bundle = SavedModelBundle.load(savedModel.toString(), SavedModelExporter.SERVE_TAG);
        Result result = bundle.function("serving_default").call(Map.of("images", batch.features().get(Batch.IMAGES)))) {
      TInt64 classes = (TInt64) result.get("classes").orElseThrow();
      TInt32 labels = (TInt32) batch.features().get(Batch.LABELS);
      int correct = 0;
      for (int i = 0; i < labels.size(); i++) {
        correct += classes.getLong(i) == labels.getInt(i) ? 1 : 0;
      }
      return correct / (double) labels.size();
    }
  }

  private static Path last(TrainResult r) {
    return r.checkpoints().get(r.checkpoints().size() - 1);
  }

  /** A plain progress line every {@code every} steps. */
  private final class Lines implements TrainListener {
    private final long every;
    private final int tokensPerImage;

    Lines(long every, int tokensPerImage) {
      this.every = every;
      this.tokensPerImage = tokensPerImage;
    }

    @Override
    public void onStep(StepMetrics m) {
      if (m.step() % every == 0) {
        out.printf(Locale.ROOT, "   step %5d  loss %.4f  %6.0f images/s%n", m.step(), m.loss(),
            m.tokensPerS() / tokensPerImage);
        out.flush();
      }
    }
  }

}
