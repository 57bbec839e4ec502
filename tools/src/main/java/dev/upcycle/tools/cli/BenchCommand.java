package dev.upcycle.tools.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code upcycle bench <what>}: benchmarks that print one JSON report on stdout and progress on
 * stderr. Not runnable by itself: picocli reports a missing subcommand (exit 2).
 */
@Command(
    name = BenchCommand.NAME,
    description = "Run a benchmark; prints one JSON report on stdout, progress on stderr.",
    commandListHeading = "%nBenchmarks:%n")
public final class BenchCommand {
  public static final String NAME = "bench";

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;
}
