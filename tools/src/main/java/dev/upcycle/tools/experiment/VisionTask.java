package dev.upcycle.tools.experiment;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.tools.demo.FashionMnist;
import dev.upcycle.train.data.Compression;
import dev.upcycle.train.data.IdxImages;
import dev.upcycle.train.data.TokenizeJob;
import dev.upcycle.train.experiment.ExperimentTask;
import dev.upcycle.train.experiment.Variant;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The vision experiment: the {@code vit-mnist} ViT (4 blocks, d 64, d_ff 128, 16 patches of 7×7,
 * GAP) on Fashion-MNIST (Debian's {@code dataset-fashion-mnist}: 60,000 training and 10,000 test
 * images), AdamW at a constant 1e-3 (weight decay 1e-4), batch 64. The paper's vision recipe:
 * Expert Choice C = 2 with renormalised combine weights, the dense Adam state copied to the
 * experts, MoE in half of the blocks — every other block (1, 3) and the last two (2, 3), the two
 * placements the paper uses.
 */
public final class VisionTask implements ExperimentTask {

  /** The preset of the dense model. */
  public static final String PRESET = "vit-mnist";
  /** Images per step. */
  public static final int BATCH = 64;
  /** Blocks of {@link #PRESET}. */
  public static final int LAYERS = 4;

  private final Path train;
  private final Path test;
  private final int experts;
  private final boolean xla;
  private final long testExamples;

  private VisionTask(Path train, Path test, long testExamples, int experts, boolean xla) {
    this.testExamples = testExamples;
    this.train = train;
    this.test = test;
    this.experts = experts;
    this.xla = xla;
  }

  /**
   * Finds (or installs) Fashion-MNIST, or takes the IDX files in {@code idxDir}, its
   * TFRecords into {@code dataDir} unless they are there.
   */
  public static VisionTask prepare(Path dataDir, int experts, boolean xla, Optional<Path> idxDir, PrintWriter log)
      throws IOException, InterruptedException {
    checkArgument(experts >= 2, "experts must be >= 2, got %s", experts);
    Path trainDir = dataDir.resolve("train");
    Path testDir = dataDir.resolve("test");
    String records = TokenizeJob.shardName(0, 1, Compression.NONE);
    if (!Files.isRegularFile(trainDir.resolve(records)) || !Files.isRegularFile(testDir.resolve(records))) {
      FashionMnist.Files4 f = idxDir.isPresent() ? FashionMnist.in(idxDir.get()) : FashionMnist.locate(log);
      Files.createDirectories(dataDir);
      if (!Files.exists(trainDir)) {
        IdxImages.toTfRecordFolder(f.trainImages(), f.trainLabels(), trainDir, Compression.NONE);
      }
      if (!Files.exists(testDir)) {
        IdxImages.toTfRecordFolder(f.testImages(), f.testLabels(), testDir, Compression.NONE);
      }
      log.printf("data: Fashion-MNIST as TFRecords in %s%n", dataDir);
    }
    long testExamples = 0;
    try (dev.upcycle.train.data.TfRecordReader r = dev.upcycle.train.data.TfRecordReader.open(testDir.resolve(records))) {
      while (r.readNext() != null) {
        testExamples++;
      }
    }
    return new VisionTask(trainDir.resolve(records), testDir.resolve(records), testExamples, experts, xla);
  }

  /** Held-out batches of the whole test set (full batches only: 156 of 64 for Fashion-MNIST's 10,000). */
  public int fullEvalBatches() {
    return (int) Math.max(1, testExamples / BATCH);
  }

  @Override
  public String name() {
    return "vision";
  }

  @Override
  public String description() {
    return "Vision: ViT " + PRESET + " (4 blocks, d 64, d_ff 128, GAP) on Fashion-MNIST (60,000 train / 10,000 test"
        + " images, Debian dataset-fashion-mnist), AdamW constant 1e-3, batch " + BATCH + "; MoE: " + experts
        + " experts, Expert Choice C 2, renormalised combine, Adam state copied";
  }

  @Override
  public String accuracyName() {
    return "top-1 accuracy";
  }

  @Override
  public List<Path> trainData() {
    return List.of(train);
  }

  @Override
  public List<Path> evalData() {
    return List.of(test);
  }

  @Override
  public Map<String, String> modelSettings() {
    return Map.of("model.preset", PRESET);
  }

  @Override
  public Map<String, String> jobSettings() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("batch_size", String.valueOf(BATCH));
    s.put("optimizer.name", "adamw");
    s.put("optimizer.adamw.weight_decay", "0.0001");
    s.put("schedule.kind", "constant");
    s.put("schedule.base", "0.001");
    s.put("log_every", "100");
    s.put("xla", String.valueOf(xla));
    return s;
  }

  @Override
  public List<Variant> recipe() {
    Map<String, String> router = Map.of("moe.encoder_router.type", "expert_choice", "moe.encoder_router.k", "1",
        "moe.encoder_router.capacity_factor", "2.0", "moe.encoder_router.renormalize", "true");
    String what = "E " + experts + ", Expert Choice C 2, renormalised";
    return List.of(
        new Variant("last_2", what + ", blocks 2-3", experts, "last_2", "none", router,
            UpcycleOptions.OptimizerState.COPY, UnaryOperator.identity()),
        new Variant("every_other", what + ", blocks 1 and 3", experts, "every_other", "none", router,
            UpcycleOptions.OptimizerState.COPY, UnaryOperator.identity()));
  }
}
