package dev.upcycle.train.metrics;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/** Plain progress lines every {@code every} steps, plus a line per checkpoint and evaluation. */
public final class ProgressPrinter implements TrainListener {

  private final PrintStream out;
  private final long every;
  private long lastStep;

  public ProgressPrinter(PrintStream out, long every) {
    this.out = checkNotNull(out, "out");
    checkArgument(every >= 1, "progress interval must be >= 1, got %s", every);
    this.every = every;
  }

  @Override
  public void onStart(long step, long last) {
    lastStep = last;
    out.printf(Locale.ROOT, "training from step %d to %d%n", step, last);
  }

  @Override
  public void onStep(StepMetrics m) {
    if (m.step() % every == 0 || m.step() == lastStep) {
      out.printf(Locale.ROOT, "step %d/%d loss %.4f ce %.4f lr %.3g grad_norm %.3g tokens/s %.0f%n", m.step(), lastStep,
          m.loss(), m.crossEntropy(), m.learningRate(), m.gradNorm(), m.tokensPerS());
    }
  }

  @Override
  public void onCheckpoint(long step, Path folder) {
    out.printf(Locale.ROOT, "checkpoint step %d -> %s%n", step, folder);
  }

  @Override
  public void onEval(long step, double loss, double accuracy) {
    out.printf(Locale.ROOT, "eval step %d loss %.4f accuracy %.4f%n", step, loss, accuracy);
  }
}
