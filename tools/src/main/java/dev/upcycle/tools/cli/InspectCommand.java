package dev.upcycle.tools.cli;

import dev.upcycle.ckpt.names.NameMap;
import dev.upcycle.inspect.InspectReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code upcycle inspect PATH}: format, recognised architecture, every tensor, from the index alone.
 * When data shards of a TF bundle are missing it still prints the listing, then one {@code error:}
 * line per missing shard on stderr, and exits 1 (the program's code for a failed command).
 */
@Command(name = "inspect", description = {"Show a checkpoint's format, architecture and tensors.",
    "Needs only the index: missing data shards are listed, named on stderr, and make the exit code 1."})
public final class InspectCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Parameters(index = "0", paramLabel = "PATH",
      description = "A TF checkpoint prefix or folder, a SavedModel folder, or a T5X checkpoint_<step> folder.")
  Path path;

  @Option(names = "--map", paramLabel = "FILE", description = "Mapping file (REGEX => NAME | DROP) to canonical names.")
  Path map;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (map != null) {
      InputFiles.check("--map", map);
    }
    Optional<NameMap> userMap = map == null ? Optional.empty() : Optional.of(NameMap.load(map));
    InspectReport report = InspectReport.of(path, userMap);
    spec.commandLine().getOut().println(json ? report.toJson() : report.format());
    if (!report.detected().missingShards().isEmpty()) {
      PrintWriter err = spec.commandLine().getErr();
      report.detected().missingShards().forEach(f -> err.println("error: data shard " + f
          + " is missing: the tensors stored there cannot be read"));
      err.flush();
      return spec.exitCodeOnExecutionException(); // as for any failed command (1)
    }
    return 0;
  }
}
