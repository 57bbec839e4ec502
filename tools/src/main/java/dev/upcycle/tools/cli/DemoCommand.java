package dev.upcycle.tools.cli;

import dev.upcycle.tools.demo.InMemoryDemo;
import dev.upcycle.tools.demo.PipelineDemo;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle demo}: the main job end to end on a built-in default. */
@Command(name = "demo", description = "Run the main job end to end on a built-in default (see README).")
public final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--xla", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Compile steps with XLA (--no-xla to compare). Default: ${DEFAULT-VALUE}.")
  boolean xla;

  @Option(names = "--in-memory", description = "Only the quick in-memory upcycling of random T5 and ViT models"
      + " (forward + backward, expert shares, function-preservation check).")
  boolean inMemory;

  @Option(names = "--work", defaultValue = "runs/demo", paramLabel = "DIR",
      description = "Folder for the data and run folders (emptied first). Default: ${DEFAULT-VALUE}.")
  Path work;

  @Option(names = "--dense-steps", defaultValue = "800", description = "Dense training steps. Default: ${DEFAULT-VALUE}.")
  int denseSteps;

  @Option(names = "--extra-steps", defaultValue = "400",
      description = "Extra steps for the MoE and the dense continuation. Default: ${DEFAULT-VALUE}.")
  int extraSteps;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getOut();
    if (inMemory) {
      boolean ok = new InMemoryDemo(out, xla).run();
      out.flush();
      return ok ? 0 : 1;
    }
    PipelineDemo.Settings d = PipelineDemo.Settings.defaults(work.toAbsolutePath(), xla);
    new PipelineDemo(out, new PipelineDemo.Settings(d.workDir(), denseSteps, extraSteps, d.batch(), d.experts(), xla,
        d.seed())).run();
    out.flush();
    return 0;
  }
}
