package dev.upcycle.tools.cli;

import dev.upcycle.tools.demo.InMemoryDemo;
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

  @Override
  public Integer call() {
    boolean ok = new InMemoryDemo(spec.commandLine().getOut(), xla).run();
    spec.commandLine().getOut().flush();
    return ok ? 0 : 1;
  }
}
