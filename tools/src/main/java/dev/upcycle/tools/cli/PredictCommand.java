package dev.upcycle.tools.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.savedmodels.ServingVersions;
import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.RestPredict;
import dev.upcycle.savedmodels.rest.ServedModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcycle predict}: one TF Serving REST predict request (JSON) run on a SavedModel in-process
 * ({@link RestPredict}); the response body on stdout, or TF Serving's {@code {"error": ...}} body on
 * stdout, the TensorFlow error code and HTTP status on stderr, and exit 1 for a request TF Serving
 * would refuse.
 */
@Command(name = "predict", description = "Run a TF Serving REST predict request (JSON: instances or inputs) on a"
    + " SavedModel; prints the response JSON.")
public final class PredictCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "A version folder (BASE/N) or a model base folder (its highest numeric version is served).")
  Path model;

  @Option(names = "--request", defaultValue = "-", paramLabel = "FILE",
      description = "Request JSON file, or - for stdin. Default: ${DEFAULT-VALUE}.")
  String request;

  @Override
  public Integer call() throws Exception {
    if (!request.equals("-")) {
      InputFiles.check("--request", Path.of(request));
    }
    Path dir = ServingVersions.resolve(model);
    byte[] body = request.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(request));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      ObjectNode parsed = RestJson.parse(body, request.equals("-") ? "stdin" : request);
      try (ServedModel served = ServedModel.load(dir)) {
        served.loadNote().ifPresent(note -> err.println("note: " + note));
        out.println(RestPredict.predict(served, parsed));
      }
    } catch (RestError e) {
      out.println(e.body());
      out.flush();
      err.println("error: " + e.code() + " (TF Serving answers HTTP " + e.httpStatus() + ")");
      err.flush();
      return 1;
    }
    out.flush();
    return 0;
  }
}
