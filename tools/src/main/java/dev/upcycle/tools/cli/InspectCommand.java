package dev.upcycle.tools.cli;

import dev.upcycle.ckpt.names.NameMap;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.inspect.InspectReport;
import dev.upcycle.savedmodels.SavedModelInspection;
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
 * A SavedModel (a version folder or a model base with numbered versions) first shows its versions,
 * tags and signatures ({@link SavedModelInspection}), as {@code saved_model_cli show --all} does.
 * When data shards of a TF bundle are missing it still prints the listing, then one {@code error:}
 * line per missing shard on stderr, and exits 1 (the program's code for a failed command).
 */
@Command(name = "inspect", description = {"Show a checkpoint's format, architecture and tensors; for a SavedModel"
    + " (BASE or BASE/N) first its versions, tags and signatures.",
    "Needs only the index: missing data shards are listed, named on stderr, and make the exit code 1."})
public final class InspectCommand implements Callable<Integer> {

  private static final JsonMapper JSON = new JsonMapper();

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Parameters(index = "0", paramLabel = "PATH",
      description = "A TF checkpoint prefix or folder, a SavedModel version folder or model base (numbered"
          + " versions: the latest is shown), or a T5X checkpoint_<step> folder.")
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
    if (SavedModelInspection.isSavedModel(path)) {
      return savedModel(SavedModelInspection.of(path), userMap);
    }
    InspectReport report = InspectReport.of(path, userMap);
    spec.commandLine().getOut().println(json ? report.toJson() : report.format());
    return missingShards(report);
  }

  /** A SavedModel: its versions, tags and signatures, then its variables as for any checkpoint. */
  private int savedModel(SavedModelInspection model, Optional<NameMap> userMap) throws Exception {
    InspectReport report = model.hasVariables() ? InspectReport.of(model.dir(), userMap) : null;
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = report != null ? report.toJsonTree() : JSON.createObjectNode();
      if (report == null) {
        root.put("source", model.dir().toString());
        root.put("format", "saved_model");
        root.putArray("tensors");
      }
      root.set("saved_model", model.toJson(JSON));
      out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    } else {
      out.print(model.format());
      out.println(report != null ? report.format() : "variables: none (the SavedModel has no variables/ folder)");
    }
    return report == null ? 0 : missingShards(report);
  }

  /** 0, or 1 after naming each missing data shard on stderr. */
  private int missingShards(InspectReport report) {
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
