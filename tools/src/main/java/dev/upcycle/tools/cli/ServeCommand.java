package dev.upcycle.tools.cli;

import dev.upcycle.savedmodels.rest.batching.BatchingFlags;
import dev.upcycle.savedmodels.rest.batching.BatchingPredictor;
import dev.upcycle.savedmodels.server.ModelServer;
import dev.upcycle.savedmodels.server.PredictHandler;
import dev.upcycle.savedmodels.server.ServerOptions;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcycle serve}: TF Serving's REST API for the SavedModels under a model base path
 * ({@link ModelServer}), with TF Serving's flag names. Prints {@code ready: URL} on stdout once it
 * listens (for scripts to wait for), one log line per load, unload and error on stderr, and runs
 * until SIGTERM or SIGINT, which stop accepting, let in-flight requests finish (batched ones too)
 * and exit 0. {@code --enable_batching} and {@code --batching_parameters_file} as TF Serving's
 * ({@link BatchingFlags}).
 */
@Command(name = "serve", description = {"Serve a model base path (numbered SavedModel versions) over TF Serving's"
    + " REST API: POST /v1/models/NAME[/versions/N]:predict, GET /v1/models/NAME[/versions/N][/metadata].",
    "A local stand-in for trying exported models and measuring them; production serving stays TF Serving's."})
public final class ServeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = ServerOptions.NAME_FLAG, defaultValue = ServerOptions.DEFAULT_NAME, paramLabel = "NAME",
      description = "The model's name in /v1/models/NAME. Default: ${DEFAULT-VALUE} (as TF Serving).")
  String modelName;

  @Option(names = ServerOptions.BASE_PATH_FLAG, required = true, paramLabel = "BASE",
      description = "The model base path: numbered version folders (BASE/1, BASE/2, ...); the latest complete one"
          + " is served, and a newer one is loaded when it appears.")
  Path basePath;

  @Option(names = ServerOptions.PORT_FLAG, defaultValue = "" + ServerOptions.DEFAULT_PORT, paramLabel = "PORT",
      description = "REST port; 0 picks a free one (printed in the ready line). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = ServerOptions.HOST_FLAG, defaultValue = ServerOptions.DEFAULT_HOST, paramLabel = "ADDRESS",
      description = "Address to listen on (not a TF Serving flag; it listens on every interface)."
          + " Default: ${DEFAULT-VALUE}; 127.0.0.1 for this machine only.")
  String host;

  @Option(names = ServerOptions.POLL_FLAG, defaultValue = "" + ServerOptions.DEFAULT_POLL_SECONDS, paramLabel = "S",
      description = "Seconds between polls of the base path for new versions; 0 looks once at startup."
          + " Default: ${DEFAULT-VALUE} (as TF Serving).")
  int pollSeconds;

  @Option(names = ServerOptions.BODY_LIMIT_FLAG, defaultValue = "" + ServerOptions.DEFAULT_BODY_LIMIT_BYTES,
      paramLabel = "BYTES", description = "Largest request body; larger ones get HTTP 413 (TF Serving has no"
          + " limit). Default: ${DEFAULT-VALUE}.")
  long bodyLimitBytes;

  @Option(names = ServerOptions.THREADS_FLAG, paramLabel = "N",
      description = "Request threads. Default: 4 per CPU (as TF Serving).")
  Integer threads;

  @Option(names = ServerOptions.READ_TIMEOUT_FLAG, defaultValue = "" + ServerOptions.DEFAULT_READ_TIMEOUT_SECONDS,
      paramLabel = "S", description = "A request must arrive, and its answer be computed and sent, each within"
          + " this many seconds, or the connection is closed; shutdown waits as long for in-flight requests."
          + " Default: ${DEFAULT-VALUE}.")
  int readTimeoutSeconds;

  @Option(names = BatchingFlags.ENABLE_FLAG, arity = "0..1", defaultValue = "false", fallbackValue = "true",
      paramLabel = "BOOL", description = "Server-side batching, as TF Serving's: concurrent requests of one signature"
          + " and input shape are merged into one run (" + BatchingFlags.PARAMETERS_FILE_FLAG + " for its settings,"
          + " else TF Serving's defaults). Default: ${DEFAULT-VALUE}.")
  boolean enableBatching;

  @Option(names = BatchingFlags.PARAMETERS_FILE_FLAG, paramLabel = "FILE",
      description = "A tensorflow.serving.BatchingParameters in protobuf text format (max_batch_size { value: 32 }"
          + " batch_timeout_micros { value: 1000 } num_batch_threads { value: 4 } max_enqueued_batches"
          + " { value: 100 }); needs " + BatchingFlags.ENABLE_FLAG + ", as in TF Serving.")
  Path batchingParametersFile;

  @Override
  public Integer call() throws Exception {
    BatchingFlags batching = new BatchingFlags(enableBatching, Optional.ofNullable(batchingParametersFile));
    if (!Files.isDirectory(basePath)) {
      throw new FileNotFoundException(ServerOptions.BASE_PATH_FLAG + " " + basePath
          + ": no such folder (expected numbered SavedModel version folders in it)");
    }
    ServerOptions options = new ServerOptions(modelName, basePath, host, port, pollSeconds, bodyLimitBytes,
        threads == null ? ServerOptions.defaultThreads() : threads, readTimeoutSeconds);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    PredictHandler predict = batching.handler(); // a bad parameters file is refused before listening
    CountDownLatch stop = new CountDownLatch(1);
    boolean handled = onSignal("TERM", stop::countDown) & onSignal("INT", stop::countDown);
    ModelServer server;
    try {
      server = ModelServer.start(options, predict, line -> {
        err.println(line);
        err.flush();
      });
    } catch (IOException | RuntimeException e) {
      predict.close();
      throw e;
    }
    if (predict instanceof BatchingPredictor b) {
      err.println("batching: " + b.parameters());
      err.flush();
    }
    Thread hook = new Thread(server::close, "upcycle-serve-shutdown"); // other signals: drain, exit 128+n
    Runtime.getRuntime().addShutdownHook(hook);
    out.println("ready: " + server.modelUrl());
    out.flush();
    if (!handled) {
      err.println("note: this JVM does not let SIGTERM be handled; it drains in a shutdown hook and exits 143");
    }
    stop.await();
    err.println("stopping: draining in-flight requests (" + server.inFlight() + ")");
    err.flush();
    server.close();
    Runtime.getRuntime().removeShutdownHook(hook);
    err.println("stopped");
    err.flush();
    return 0;
  }

  /**
   * Runs {@code action} on signal {@code name} instead of the JVM's default (exit 128+n) through
   * {@code sun.misc.Signal}, reached by reflection so that the build has no internal-API warning.
   *
   * @return false when this JVM does not offer it
   */
  static boolean onSignal(String name, Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object h = Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler}, (proxy, m, args) ->
          switch (m.getName()) {
            case "handle" -> {
              action.run();
              yield null;
            }
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> "SignalHandler[" + name + "]";
          });
      signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class).newInstance(name), h);
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return false;
    }
  }
}
