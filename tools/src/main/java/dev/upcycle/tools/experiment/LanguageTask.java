package dev.upcycle.tools.experiment;

import static com.google.common.base.Preconditions.checkArgument;

import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.train.data.TokenizeJob;
import dev.upcycle.train.experiment.ExperimentTask;
import dev.upcycle.train.experiment.Variant;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The language experiment: a small T5 v1.1 (4 + 4 blocks, d 64, d_ff 256, 4 heads of 16) trained with
 * T5 span corruption (density 0.15, mean span 3, 100 sentinels) on the King James Bible from
 * Debian's {@code bible-kjv} ({@link KjvCorpus}), tokenized with a SentencePiece unigram vocabulary
 * of {@value #VOCAB} pieces trained by Debian's {@code spm_train} ({@link SpmTrain}), rows of
 * {@value #LENGTH} input tokens packed, batch {@value #BATCH}; Adafactor with T5X's defaults and its
 * rsqrt schedule (base 1, warmup 10,000: a constant 0.01 over every run here). The paper's language
 * recipe: Expert Choice C = 2 in the encoder, Top-2 in the decoder, every other block of both
 * stacks, the optimizer state reset, no renormalisation.
 */
public final class LanguageTask implements ExperimentTask {

  public static final int VOCAB = 1000;
  public static final int QUICK_VOCAB = 300;
  public static final int QUICK_VERSES = 2000;
  public static final int LENGTH = 128;
  public static final int BATCH = 16;
  public static final int LAYERS = 4;

  private final Path train;
  private final Path heldOut;
  private final TokenizeJob.Result trainResult;
  private final long heldOutRows;
  private final int experts;
  private final boolean xla;
  private final String corpusName;

  private LanguageTask(Path train, Path heldOut, TokenizeJob.Result trainResult, long heldOutRows, int experts,
      boolean xla, String corpusName) {
    this.corpusName = corpusName;
    this.train = train;
    this.heldOut = heldOut;
    this.trainResult = trainResult;
    this.heldOutRows = heldOutRows;
    this.experts = experts;
    this.xla = xla;
  }

  /**
   * Writes the corpus, the vocabulary and the TFRecords into {@code dataDir} unless they are there.
   *
   * @param quick the first {@value #QUICK_VERSES} verses and a {@value #QUICK_VOCAB}-piece vocabulary
   * @param text a text file (one document per line) instead of the King James Bible
   * @param spmModel a SentencePiece model instead of one trained by {@code spm_train} on the training text
   */
  public static LanguageTask prepare(Path dataDir, boolean quick, int experts, boolean xla, Optional<Path> text,
      Optional<Path> spmModel, PrintWriter log) throws IOException, InterruptedException {
    checkArgument(experts >= 2, "experts must be >= 2, got %s", experts);
    int max = quick ? QUICK_VERSES : 0;
    KjvCorpus.Files2 corpus = text.isPresent() ? KjvCorpus.prepareFrom(text.get(), dataDir.resolve("corpus"), max, log)
        : KjvCorpus.prepare(dataDir.resolve("corpus"), max, log);
    Path spm = spmModel.isPresent() ? spmModel.get()
        : SpmTrain.train(corpus.train(), quick ? QUICK_VOCAB : VOCAB, dataDir.resolve("spm"), log);
    TokenizeJob.Options options = TokenizeJob.Options.of(LENGTH, true, 0, 1);
    TokenizeJob.Result train = tokenized(spm, corpus.train(), dataDir.resolve("train"), options, log);
    TokenizeJob.Result held = tokenized(spm, corpus.heldOut(), dataDir.resolve("heldout"), options, log);
    String name = text.map(t -> t.toString()).orElse("the King James Bible (Debian bible-kjv)")
        + (quick ? ", first " + QUICK_VERSES + " lines" : "");
    return new LanguageTask(train.shards().get(0), held.shards().get(0), train, held.examples(), experts, xla, name);
  }

  /**
   * The records of {@code text} in {@code out} (published atomically by the job), with their sizes
   * in {@code <out>.result}, written after; a folder without that file is from an interrupted run.
   */
  private static TokenizeJob.Result tokenized(Path spm, Path text, Path out, TokenizeJob.Options options,
      PrintWriter log) throws IOException {
    Path marker = out.resolveSibling(out.getFileName() + ".result");
    if (Files.isRegularFile(marker) && Files.isDirectory(out)) {
      return parse(Files.readString(marker), out);
    }
    Files.deleteIfExists(marker);
    if (Files.exists(out)) {
      dev.upcycle.ckpt.Folders.deleteTree(out);
    }
    TokenizeJob.Result r = TokenizeJob.tokenize(spm, List.of(text), out, options, TokenizeJob.Progress.NONE);
    dev.upcycle.ckpt.Folders.writeAtomically(marker, format(r).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    log.printf(Locale.ROOT, "data: %s -> %,d rows of %d input / %d target tokens (%,d documents, %,d tokens) in %s%n",
        text.getFileName(), r.examples(), r.inputsLength(), r.targetsLength(), r.documents(), r.tokens(), out);
    return r;
  }

  private static String format(TokenizeJob.Result r) {
    return String.format(Locale.ROOT, "%s %d %d %d %d %d %d %d%n", r.shards().get(0).getFileName(), r.documents(),
        r.segments(), r.examples(), r.tokens(), r.inputsLength(), r.targetsLength(), r.vocabSize());
  }

  private static TokenizeJob.Result parse(String text, Path out) {
    String[] f = text.strip().split(" ");
    return new TokenizeJob.Result(out, List.of(out.resolve(f[0])), Long.parseLong(f[1]), Long.parseLong(f[2]),
        Long.parseLong(f[3]), Long.parseLong(f[4]), Integer.parseInt(f[5]), Integer.parseInt(f[6]),
        Integer.parseInt(f[7]));
  }

  /** Held-out batches covering the held-out rows (full batches only). */
  public int fullEvalBatches() {
    return (int) Math.max(1, heldOutRows / BATCH);
  }

  @Override
  public String name() {
    return "language";
  }

  @Override
  public String description() {
    return String.format(Locale.ROOT, "Language: T5 v1.1 (4+4 blocks, d 64, d_ff 256, 4 heads) with span corruption"
        + " on %s (every %dth line held out), a SentencePiece vocabulary"
        + " of %d pieces + 100 sentinels, %,d training rows of %d/%d tokens, batch %d,"
        + " Adafactor (T5X defaults, lr 0.01); MoE: %d experts, Expert Choice C 2 in the encoder, Top-2 in the"
        + " decoder, every other block, optimizer state reset, no renormalisation", corpusName, KjvCorpus.HELD_OUT_EVERY,
        trainResult.vocabSize() - 100, trainResult.examples(), trainResult.inputsLength(),
        trainResult.targetsLength(), BATCH, experts);
  }

  @Override
  public String accuracyName() {
    return "token accuracy";
  }

  @Override
  public List<Path> trainData() {
    return List.of(train);
  }

  @Override
  public List<Path> evalData() {
    return List.of(heldOut);
  }

  @Override
  public Map<String, String> modelSettings() {
    return Map.of("model.t5", String.format(Locale.ROOT, "{\"d_model\": 64, \"d_ff\": 256, \"num_heads\": 4,"
        + " \"d_kv\": 16, \"encoder_layers\": %d, \"decoder_layers\": %d, \"vocab_size\": %d, \"relative_buckets\": 32,"
        + " \"relative_max_distance\": 128, \"dropout\": 0.0}", LAYERS, LAYERS, trainResult.vocabSize()));
  }

  @Override
  public Map<String, String> jobSettings() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("batch_size", String.valueOf(BATCH));
    s.put("input_length", String.valueOf(trainResult.inputsLength()));
    s.put("target_length", String.valueOf(trainResult.targetsLength()));
    s.put("optimizer.name", "adafactor");
    s.put("schedule.kind", "rsqrt");
    s.put("schedule.base", "1.0");
    s.put("schedule.warmup", "10000");
    s.put("log_every", "100");
    s.put("xla", String.valueOf(xla));
    return s;
  }

  @Override
  public List<Variant> recipe() {
    Map<String, String> router = Map.of("moe.encoder_router.type", "expert_choice", "moe.encoder_router.k", "1",
        "moe.encoder_router.capacity_factor", "2.0", "moe.encoder_router.renormalize", "false",
        "moe.decoder_router.type", "top_k", "moe.decoder_router.k", "2", "moe.decoder_router.renormalize", "false");
    return List.of(new Variant("every_other", "E " + experts + ", Expert Choice C 2 encoder, Top-2 decoder, every"
        + " other block", experts, "every_other", "every_other", router,
        UpcycleOptions.OptimizerState.RESET, UnaryOperator.identity()));
  }
}
