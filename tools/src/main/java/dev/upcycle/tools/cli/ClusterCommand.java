package dev.upcycle.tools.cli;

import dev.upcycle.train.distributed.ClusterCheck;
import dev.upcycle.train.distributed.ClusterSpec;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code upcycle cluster check}: each task's state (reachable within the timeout, its devices). */
@Command(name = "cluster", description = "Inspect a cluster described by TF_CONFIG.",
    subcommands = ClusterCommand.Check.class)
public final class ClusterCommand {

  @picocli.CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  /** Prints one line per task; exit 1 when a task is unreachable or lists no devices. */
  @Command(name = "check", description = "Print each task's state (reachable, devices); exit 1 if a task is not usable.")
  static final class Check implements Callable<Integer> {
    @Spec CommandSpec spec;

    @picocli.CommandLine.Option(names = {"-h", "--help"}, usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    @Mixin ClusterOptions cluster = new ClusterOptions();

    @Override
    public Integer call() throws Exception {
      ClusterSpec c = cluster.spec();
      var out = spec.commandLine().getOut();
      List<ClusterCheck.TaskState> states = ClusterCheck.check(c, cluster.timeout());
      states.forEach(out::println);
      List<String> problems = ClusterCheck.problems(states);
      out.println(problems.isEmpty() ? "cluster ready: " + states.size() + " task(s)"
          : "cluster NOT ready: " + problems.size() + " of " + states.size() + " task(s) not usable");
      out.flush();
      return problems.isEmpty() ? 0 : 1;
    }
  }
}
