package dev.upcycle.savedmodels.server;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.nio.file.Path;

/**
 * What {@link ModelServer} serves and its limits. The flag names are those of TF Serving's
 * {@code tensorflow_model_server} where it has one ({@code model_servers/main.cc}), with its
 * defaults; the body limit and read timeout are ours (TF Serving has neither flag).
 *
 * @param modelName the name in {@code /v1/models/NAME} ({@value #NAME_FLAG})
 * @param basePath the model base path holding numbered version folders ({@value #BASE_PATH_FLAG})
 * @param host the address to bind ({@value #HOST_FLAG}; {@code 0.0.0.0}, every interface, as TF
 *     Serving binds)
 * @param port the REST port, 0 for an ephemeral one ({@value #PORT_FLAG})
 * @param pollSeconds seconds between polls of the base path for new versions; 0 polls once at
 *     startup ({@value #POLL_FLAG})
 * @param bodyLimitBytes the largest request body answered; larger ones get HTTP 413 ({@value #BODY_LIMIT_FLAG})
 * @param threads request threads ({@value #THREADS_FLAG}); a slow client holds one at most until
 *     the read timeout
 * @param readTimeoutSeconds the longest a client may take to send a request (headers and body), and
 *     the longest its answer may take to be computed and sent once the request is read, before its
 *     connection is closed ({@value #READ_TIMEOUT_FLAG}); also the longest shutdown waits for
 *     in-flight requests
 */
public record ServerOptions(String modelName, Path basePath, String host, int port, int pollSeconds,
    long bodyLimitBytes, int threads, int readTimeoutSeconds) {

  public static final String NAME_FLAG = "--model_name";
  public static final String BASE_PATH_FLAG = "--model_base_path";
  public static final String HOST_FLAG = "--rest_api_host";
  public static final String PORT_FLAG = "--rest_api_port";
  public static final String POLL_FLAG = "--file_system_poll_wait_seconds";
  public static final String BODY_LIMIT_FLAG = "--rest_api_body_limit_bytes";
  public static final String THREADS_FLAG = "--rest_api_num_threads";
  public static final String READ_TIMEOUT_FLAG = "--rest_api_read_timeout_seconds";

  /** TF Serving's default model name. */
  public static final String DEFAULT_NAME = "default";
  /** TF Serving's REST port in its documentation and Docker image. */
  public static final int DEFAULT_PORT = 8501;
  /** TF Serving binds every interface. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** TF Serving's default poll interval. */
  public static final int DEFAULT_POLL_SECONDS = 1;
  /** 64 MiB: a batch of 8 ViT-B/16 images (224x224x3 floats) is about 12 MB of JSON. */
  public static final long DEFAULT_BODY_LIMIT_BYTES = 64L << 20;
  /** 30 s, TF Serving's default REST call timeout ({@code --rest_api_timeout_in_ms}). */
  public static final int DEFAULT_READ_TIMEOUT_SECONDS = 30;

  public ServerOptions {
    checkNotNull(modelName, "modelName");
    checkArgument(!modelName.isEmpty() && modelName.indexOf('/') < 0 && modelName.indexOf(':') < 0,
        "%s must be non-empty without '/' or ':' (it is a path segment of /v1/models/NAME), got '%s'", NAME_FLAG,
        modelName);
    checkNotNull(basePath, "basePath");
    checkNotNull(host, "host");
    checkArgument(port >= 0 && port <= 65535, "%s must be in [0, 65535] (0: any free port), got %s", PORT_FLAG, port);
    checkArgument(pollSeconds >= 0, "%s must be >= 0 (0: poll once at startup), got %s", POLL_FLAG, pollSeconds);
    checkArgument(bodyLimitBytes > 0 && bodyLimitBytes <= Integer.MAX_VALUE - 8,
        "%s must be in [1, %s], got %s", BODY_LIMIT_FLAG, Integer.MAX_VALUE - 8, bodyLimitBytes);
    checkArgument(threads >= 1, "%s must be >= 1, got %s", THREADS_FLAG, threads);
    checkArgument(readTimeoutSeconds >= 1, "%s must be >= 1, got %s", READ_TIMEOUT_FLAG, readTimeoutSeconds);
  }

  /** TF Serving's default number of REST threads: 4 per CPU ({@code Server::Options::http_num_threads}). */
  public static int defaultThreads() {
    return 4 * Runtime.getRuntime().availableProcessors();
  }

  /** Model {@code name} at {@code basePath} with every other setting at its default. */
  public static ServerOptions of(String name, Path basePath) {
    return new ServerOptions(name, basePath, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_POLL_SECONDS,
        DEFAULT_BODY_LIMIT_BYTES, defaultThreads(), DEFAULT_READ_TIMEOUT_SECONDS);
  }

  public ServerOptions withHost(String h) {
    return new ServerOptions(modelName, basePath, h, port, pollSeconds, bodyLimitBytes, threads, readTimeoutSeconds);
  }

  public ServerOptions withPort(int p) {
    return new ServerOptions(modelName, basePath, host, p, pollSeconds, bodyLimitBytes, threads, readTimeoutSeconds);
  }

  public ServerOptions withPollSeconds(int s) {
    return new ServerOptions(modelName, basePath, host, port, s, bodyLimitBytes, threads, readTimeoutSeconds);
  }

  public ServerOptions withBodyLimitBytes(long b) {
    return new ServerOptions(modelName, basePath, host, port, pollSeconds, b, threads, readTimeoutSeconds);
  }

  public ServerOptions withThreads(int t) {
    return new ServerOptions(modelName, basePath, host, port, pollSeconds, bodyLimitBytes, t, readTimeoutSeconds);
  }

  public ServerOptions withReadTimeoutSeconds(int s) {
    return new ServerOptions(modelName, basePath, host, port, pollSeconds, bodyLimitBytes, threads, s);
  }
}
