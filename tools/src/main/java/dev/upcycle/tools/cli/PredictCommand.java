package dev.upcycle.tools.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.upcycle.savedmodels.RestPredict;
import dev.upcycle.savedmodels.ServingVersions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.tensorflow.SavedModelBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcycle predict}: one TF Serving REST predict request (JSON) run on a SavedModel in-process;
 * the response body on stdout, or TF Serving's {@code {"error": ...}} body and exit 1 for a bad request.
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
    JsonMapper json = RestPredict.json();
    PrintWriter out = spec.commandLine().getOut();
    JsonNode parsed;
    try {
      parsed = RestPredict.parseRequest(json, body, request.equals("-") ? "stdin" : request);
    } catch (IllegalArgumentException e) {
      return fail(json, out, e.getMessage());
    }
    try (SavedModelBundle bundle = ServingVersions.load(dir)) {
      try {
        out.println(json.writeValueAsString(RestPredict.predict(bundle, parsed)));
      } catch (IllegalArgumentException e) {
        return fail(json, out, e.getMessage());
      }
    }
    out.flush();
    return 0;
  }

  private static int fail(JsonMapper json, PrintWriter out, String message) throws JsonProcessingException {
    out.println(json.writeValueAsString(RestPredict.error(message)));
    out.flush();
    return 1;
  }
}
