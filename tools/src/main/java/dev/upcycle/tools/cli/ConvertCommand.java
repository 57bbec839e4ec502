package dev.upcycle.tools.cli;

import dev.upcycle.ckpt.names.NameMap;
import dev.upcycle.inspect.SpecFacts;
import dev.upcycle.model.SparseLayout;
import dev.upcycle.plan.ConvertJob;
import dev.upcycle.plan.ConvertResult;
import dev.upcycle.plan.GranularScaling;
import dev.upcycle.plan.PlanReport;
import dev.upcycle.plan.ProgressListener;
import dev.upcycle.plan.UpcycleOptions;
import dev.upcycle.plan.UpcyclePlan;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.tools.progress.Progress;
import dev.upcycle.tools.progress.ProgressConsole;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code upcycle convert}: dense checkpoint → MoE checkpoint, streamed, checked, atomic. */
@Command(name = "convert", description = "Upcycle a dense checkpoint into an MoE checkpoint.")
public final class ConvertCommand implements Callable<Integer> {

  private static final long MB = 1_000_000;

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--from", required = true, paramLabel = "DIR", description = "Dense checkpoint (any readable format).")
  Path from;

  @Option(names = "--to", required = true, paramLabel = "DIR", description = "Output folder (appears atomically).")
  Path to;

  @Option(names = "--experts", required = true, paramLabel = "E", description = "Experts per MoE layer.")
  int experts;

  @Option(names = "--layout", defaultValue = "every_other", paramLabel = "LAYOUT", converter = Choices.Layouts.class,
      description = "Sparse layers of every stack: every_other | last_N | 1,3,5 | none. Default: ${DEFAULT-VALUE}.")
  SparseLayout layout;

  @Option(names = "--decoder-layout", paramLabel = "LAYOUT", converter = Choices.Layouts.class,
      description = "Decoder layout if it differs from --layout.")
  SparseLayout decoderLayout;

  @Option(names = "--format", defaultValue = "tf", paramLabel = "FORMAT", converter = Choices.OutputFormats.class,
      completionCandidates = Choices.OutputFormats.class,
      description = "Output format: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
  UpcycleOptions.OutputFormat format;

  @Option(names = "--optimizer-state", defaultValue = "reset", paramLabel = "STATE",
      converter = Choices.OptimizerStates.class, completionCandidates = Choices.OptimizerStates.class,
      description = "Optimizer slots, one of ${COMPLETION-CANDIDATES}: reset (fresh) or copy (tiled to the experts)."
          + " Default: ${DEFAULT-VALUE}.")
  UpcycleOptions.OptimizerState optimizerState;

  @Option(names = "--router-init", defaultValue = "normal:0.02", paramLabel = "INIT", converter = Choices.RouterInits.class,
      description = "Router initializer: normal:STD | fan_in:SCALE | zeros | ones | virtual-groups[:INIT]"
          + " (Megatron-Core: the G experts cut from one dense copy share one router column; INIT defaults to"
          + " normal:0.02). Default: ${DEFAULT-VALUE}.")
  UpcycleOptions.RouterInit routerInit;

  @Option(names = "--noise", defaultValue = "0", paramLabel = "S", description = "Relative Gaussian noise on expert copies.")
  double noise;

  @Option(names = "--drop-upcycling", defaultValue = "0", paramLabel = "R",
      description = "Re-initialise this fraction of each expert's d_ff units (Drop-Upcycling).")
  double dropUpcycling;

  @Option(names = "--granularity", defaultValue = "1", paramLabel = "G", description = "Split each dense MLP into G finer experts.")
  int granularity;

  @Option(names = "--granular-scaling", defaultValue = "wo-times-g", paramLabel = "RULE",
      converter = Choices.GranularScalings.class, completionCandidates = Choices.GranularScalings.class,
      description = "How the expert copies are scaled, one of ${COMPLETION-CANDIDATES}: wo-times-g (wo kernel x G)"
          + " or megatron (Megatron-Core: s^(1/3) on gated MLP weights, s^(1/2) on others; s = E*G/K when the"
          + " router's weights are softmax probabilities, G when renormalised). Default: ${DEFAULT-VALUE}.")
  GranularScaling.Method granularScaling;

  @Option(names = "--scaling-router", paramLabel = "ROUTER", converter = Choices.ScalingRouters.class,
      description = "megatron: the encoder's (ViT's) router the MoE will train with: top_k:K[:renormalize] |"
          + " expert_choice:C[:renormalize]. Default: the router convert records for the source (paper recipe).")
  GranularScaling.Routing scalingRouter;

  @Option(names = "--decoder-scaling-router", paramLabel = "ROUTER", converter = Choices.ScalingRouters.class,
      description = "megatron: the decoder's (LM's) router: top_k:K[:renormalize]. Default: as --scaling-router.")
  GranularScaling.Routing decoderScalingRouter;

  @Option(names = "--map", paramLabel = "FILE", description = "Mapping file (REGEX => NAME | DROP) to canonical names.")
  Path map;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of routers, noise and dropped units. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--dry-run", description = "Check the plan and print the report; write nothing.")
  boolean dryRun;

  @Option(names = "--overwrite", description = "Replace an existing --to folder.")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    if (map != null) {
      InputFiles.check("--map", map);
    }
    SparseLayout enc = layout;
    SparseLayout dec = decoderLayout == null ? enc : decoderLayout;
    UpcycleOptions options;
    try {
      options = UpcycleOptions.defaults(experts)
          .withLayouts(enc, dec)
          .withRouterInit(routerInit)
          .withNoise(noise)
          .withDropUpcycling(dropUpcycling)
          .withGranularity(granularity)
          .withGranularScaling(scaling())
          .withOptimizerState(optimizerState)
          .withSeed(seed)
          .withOutputFormat(format);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    Optional<NameMap> userMap = map == null ? Optional.empty() : Optional.of(NameMap.load(map));
    PrintWriter out = spec.commandLine().getOut();
    Listener listener = new Listener(out, dryRun);
    ConvertResult result;
    try {
      result = ConvertJob.run(from, to, options, userMap, dryRun, overwrite, listener);
    } finally {
      listener.close();
    }
    if (dryRun) {
      out.println("dry run: nothing written");
    } else {
      out.printf(Locale.ROOT, "wrote %s: %d tensors, %.1f MB, step %d, in %.1f s%n", result.output(),
          result.tensorsWritten(), result.bytesWritten() / 1e6, result.step(), result.elapsed().toMillis() / 1e3);
      Provenance record = Provenance.find(result.output()).orElseThrow();
      if (record.spec().isPresent()) {
        out.println("model spec recorded (train, eval and export need no model flags): "
            + SpecFacts.describe(SpecFacts.of(record.spec().get())));
      } else {
        out.println("warning: no model spec recorded (" + record.options().path("model_spec_not_recorded").asText()
            + "); train, eval and export will need the model as --config FILE or --set model.…");
      }
    }
    return 0;
  }

  /** The scaling rule of the flags; a scaling router without {@code --granular-scaling megatron} is a usage error. */
  private GranularScaling scaling() {
    if (granularScaling != GranularScaling.Method.MEGATRON) {
      if (scalingRouter != null || decoderScalingRouter != null) {
        throw new ParameterException(spec.commandLine(), "--scaling-router and --decoder-scaling-router apply to"
            + " --granular-scaling megatron only (got --granular-scaling " + granularScaling.spelling() + ")");
      }
      return GranularScaling.WO_TIMES_G;
    }
    return new GranularScaling(GranularScaling.Method.MEGATRON, Optional.ofNullable(scalingRouter),
        Optional.ofNullable(decoderScalingRouter));
  }

  /**
   * Prints the plan report, then drives a progress bar over the megabytes written (of the plan's
   * total), so the ETA follows the bytes, not the tensor count (one large tensor is most of a model).
   */
  private static final class Listener implements ProgressListener {
    private final PrintWriter out;
    private final boolean dryRun;
    private Progress progress;
    private long totalBytes;
    private long totalMb;
    private long bytesDone;
    private long mbShown;

    Listener(PrintWriter out, boolean dryRun) {
      this.out = out;
      this.dryRun = dryRun;
    }

    @Override
    public void planned(UpcyclePlan plan, PlanReport report) {
      out.println(report.format());
      out.flush();
      if (!dryRun) {
        totalBytes = plan.bytesWritten();
        totalMb = Math.max(1, (totalBytes + MB - 1) / MB);
        progress = ProgressConsole.stderr().start("convert", totalMb, "MB");
      }
    }

    @Override
    public void tensorWritten(int done, int total, String name, long bytes) {
      if (progress != null) {
        bytesDone += bytes;
        // proportional, so the last tensor lands exactly on the total
        long mb = totalBytes == 0 ? totalMb : Math.min(totalMb, Math.round((double) bytesDone / totalBytes * totalMb));
        progress.advance(mb - mbShown);
        mbShown = mb;
      }
    }

    void close() {
      if (progress != null) {
        progress.close();
      }
    }
  }
}
