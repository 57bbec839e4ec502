package dev.upcycle.savedmodels.server;

import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.ServedModel;
import dev.upcycle.savedmodels.rest.TfCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * TF Serving's REST API for one model, on the JDK's HTTP server ({@code com.sun.net.httpserver}: in
 * the JDK, no dependency, enough for a local stand-in; docs/serving.md says why). Endpoints, as TF
 * Serving's {@code HttpRestApiHandler} answers them: {@code POST /v1/models/NAME[/versions/N]:predict}
 * (through the {@link PredictHandler}), {@code GET /v1/models/NAME[/versions/N]} (model status) and
 * {@code GET /v1/models/NAME[/versions/N]/metadata} (signature defs); errors as {@code {"error": ...}}
 * with the HTTP status of their TensorFlow code; other paths under {@code /v1/} are
 * {@code Malformed request} (400), paths outside it 404.
 *
 * <p>Limits: a body over {@link ServerOptions#bodyLimitBytes()} gets 413 without being read; a
 * fixed pool of {@link ServerOptions#threads()} request threads, each request read within
 * {@link ServerOptions#readTimeoutSeconds()} or its connection is closed, so a stalled client holds
 * one thread for that long at most. {@link #close} answers new requests UNAVAILABLE, waits for
 * in-flight ones (up to the read timeout), stops listening, closes the predict handler and unloads
 * the model. One log line per load, unload and error.
 */
public final class ModelServer implements AutoCloseable {

  /** The JDK server's request and response time limits, in seconds, read once per JVM. */
  static final String MAX_REQ_TIME = "sun.net.httpserver.maxReqTime";
  static final String MAX_RSP_TIME = "sun.net.httpserver.maxRspTime";
  private static final String NO_DELAY = "sun.net.httpserver.nodelay";
  /** What parse errors call the body. */
  static final String BODY_SOURCE = "the request body";
  /** The UNAVAILABLE message of a request refused because the server is closing. */
  public static final String SHUTTING_DOWN = "the model server is shutting down";
  /** How often {@link #close} looks whether the in-flight requests are done. */
  private static final long DRAIN_POLL_MILLIS = 5;
  /** libevent's page for a path TF Serving's HTTP server has no handler for. */
  static final String NOT_FOUND_PAGE = "<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n"
      + "The requested URL was not found on this server.\n</BODY></HTML>\n";

  private final ServerOptions options;
  private final PredictHandler predict;
  private final Consumer<String> log;
  private final ModelVersions versions;
  private final VersionWatcher watcher;
  private final HttpServer http;
  private final ExecutorService executor;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Set when {@link #close} begins: requests that reach the handler after it are refused. */
  private volatile boolean closing;
  private boolean closed;

  private ModelServer(ServerOptions options, PredictHandler predict, Consumer<String> log, ModelVersions versions,
      VersionWatcher watcher, HttpServer http, ExecutorService executor) {
    this.options = options;
    this.predict = predict;
    this.log = log;
    this.versions = versions;
    this.watcher = watcher;
    this.http = http;
    this.executor = executor;
  }

  /**
   * Loads the latest complete version under {@link ServerOptions#basePath()} (when there is one;
   * until then requests get NOT_FOUND), then listens, then polls for new versions.
   *
   * @param predict how predict requests run ({@link PredictHandler#DIRECT}: one by one)
   * @param log receives one line per load, unload and error
   * @throws IOException when the port cannot be bound
   */
  public static ModelServer start(ServerOptions options, PredictHandler predict, Consumer<String> log)
      throws IOException {
    checkNotNull(options, "options");
    checkNotNull(predict, "predict");
    checkNotNull(log, "log");
    configureJdkServer(options.readTimeoutSeconds(), log);
    ModelVersions versions = new ModelVersions(options.modelName(), ServedModel::load, log);
    VersionWatcher watcher = new VersionWatcher(options.basePath(), versions, options.pollSeconds(), log);
    watcher.poll();
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor executor = new ThreadPoolExecutor(options.threads(), options.threads(), 0, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "upcycle-serve-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 0);
    } catch (IOException e) {
      executor.shutdown();
      versions.close();
      throw new IOException("cannot listen on " + options.host() + ":" + options.port() + " ("
          + ServerOptions.PORT_FLAG + "): " + e.getMessage(), e);
    }
    http.setExecutor(executor);
    ModelServer server = new ModelServer(options, predict, log, versions, watcher, http, executor);
    http.createContext("/", server::handle);
    http.start();
    watcher.start();
    return server;
  }

  /** Sets the JDK server's per-request time limits (JVM-wide, read when its first server starts). */
  private static void configureJdkServer(int seconds, Consumer<String> log) {
    for (String p : new String[] {MAX_REQ_TIME, MAX_RSP_TIME}) {
      String was = System.getProperty(p);
      if (was == null) {
        System.setProperty(p, Integer.toString(seconds));
      } else if (!was.equals(Integer.toString(seconds))) {
        log.accept("warning: the JDK HTTP server's " + p + " is " + was + " s in this JVM (set before); "
            + ServerOptions.READ_TIMEOUT_FLAG + " " + seconds + " does not change it");
      }
    }
    if (System.getProperty(NO_DELAY) == null) {
      System.setProperty(NO_DELAY, "true"); // small JSON answers are not held back by Nagle's algorithm
    }
  }

  /** The port listened on (the one chosen when {@link ServerOptions#port()} is 0). */
  public int port() {
    return http.getAddress().getPort();
  }

  /** {@code http://HOST:PORT/v1/models/NAME} (localhost when every interface is bound). */
  public String modelUrl() {
    String host = http.getAddress().getAddress().isAnyLocalAddress() ? "localhost" : options.host();
    return "http://" + host + ":" + port() + "/v1/models/" + options.modelName();
  }

  /** The model's versions (what is loaded, every version's state). */
  public ModelVersions versions() {
    return versions;
  }

  /** Polls the base path now (as the background poll does), for tests and after a known write. */
  public void poll() {
    watcher.poll();
  }

  /** Whether {@link #close} has begun. */
  boolean closing() {
    return closing;
  }

  /** Requests being answered now. */
  public int inFlight() {
    return inFlight.get();
  }

  private void handle(HttpExchange ex) {
    inFlight.incrementAndGet();
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getRawPath();
    try {
      if (closing) {
        RestError e = new RestError(TfCode.UNAVAILABLE, SHUTTING_DOWN);
        reply(ex, e.httpStatus(), "application/json", e.body());
        return;
      }
      if (!RestRoute.HANDLED.matcher(path).matches()) {
        log.accept("error: " + method + " " + path + ": 404, not a /v1/ path");
        reply(ex, 404, "text/html", NOT_FOUND_PAGE);
        return;
      }
      byte[] body;
      try {
        body = readBody(ex);
      } catch (BodyTooLarge e) {
        log.accept("error: " + method + " " + path + ": 413, " + e.getMessage());
        reply(ex, 413, "application/json", RestJson.errorBody(e.getMessage()));
        return;
      }
      String answer;
      try {
        answer = answer(method, path, body, ex.getRequestHeaders().getFirst("Origin"));
      } catch (RestError e) {
        log.accept("error: " + method + " " + path + ": " + e.httpStatus() + " " + oneLine(e.status()));
        reply(ex, e.httpStatus(), "application/json", e.body());
        return;
      } catch (RuntimeException e) {
        log.accept("error: " + method + " " + path + ": 500 " + oneLine(String.valueOf(e)));
        reply(ex, 500, "application/json", RestJson.errorBody(String.valueOf(e.getMessage())));
        return;
      }
      reply(ex, 200, "application/json", answer);
    } catch (IOException e) {
      log.accept("error: " + method + " " + path + ": the connection failed or timed out ("
          + ServerOptions.READ_TIMEOUT_FLAG + " " + options.readTimeoutSeconds() + "): " + e);
    } finally {
      ex.close();
      inFlight.decrementAndGet();
    }
  }

  /** The body of a 200 answer; a refused request throws its {@link RestError}. */
  private String answer(String method, String path, byte[] body, String origin) {
    if (method.equals("OPTIONS")) { // CORS preflight, as TF Serving's dispatcher answers it
      if (origin != null && origin.matches("(?s).*https?://.*")) {
        return "";
      }
      throw new RestError(TfCode.FAILED_PRECONDITION, "Origin header is missing in CORS preflight");
    }
    RestRoute route = RestRoute.parse(method, path);
    switch (route.api()) {
      case "predict" -> {
        try (ModelVersions.Handle h = acquire(route)) {
          return predict.predict(h.model(), body, BODY_SOURCE);
        }
      }
      case "classify", "regress" -> throw new RestError(TfCode.UNIMPLEMENTED, "the " + route.api()
          + " API is not served by upcycle serve; use :predict (TF Serving serves :" + route.api() + ")");
      case "status" -> {
        return status(route);
      }
      case "metadata" -> {
        return metadata(route);
      }
      default -> throw new RestError(TfCode.INVALID_ARGUMENT, "Malformed request: " + method + " " + path);
    }
  }

  /** The version a predict or metadata request names, held (TF Serving's {@code GetServableHandle}). */
  private ModelVersions.Handle acquire(RestRoute route) {
    if (route.model().isEmpty()) {
      throw new RestError(TfCode.INVALID_ARGUMENT, "Missing model name in request.");
    }
    if (route.label().isPresent()) {
      throw new RestError(TfCode.INVALID_ARGUMENT, "Unrecognized servable version label: " + route.label().get());
    }
    if (!route.model().equals(options.modelName())) {
      throw new RestError(TfCode.NOT_FOUND, "Servable not found for request: " + (route.version().isPresent()
          ? "Specific(" + route.model() + ", " + route.version().getAsLong() + ")" : "Latest(" + route.model() + ")"));
    }
    return versions.acquire(route.version());
  }

  /**
   * TF Serving's {@code GetModelStatus} as JSON: every version it has seen, highest first, or the one
   * asked for (a label is ignored, as TF Serving's status ignores it).
   */
  private String status(RestRoute route) {
    if (route.model().isEmpty()) {
      throw new RestError(TfCode.INVALID_ARGUMENT, "Missing model name in request.");
    }
    SortedMap<Long, ModelVersions.Status> states = route.model().equals(options.modelName())
        ? versions.states() : new TreeMap<>();
    ObjectNode root = RestJson.mapper().createObjectNode();
    ArrayNode list = root.putArray("model_version_status");
    if (route.version().isPresent()) {
      long v = route.version().getAsLong();
      ModelVersions.Status s = states.get(v);
      if (s == null) {
        throw new RestError(TfCode.NOT_FOUND, "Could not find version " + v + " of model " + route.model());
      }
      addStatus(list, v, s);
    } else {
      if (states.isEmpty()) {
        throw new RestError(TfCode.NOT_FOUND, "Could not find any versions of model " + route.model());
      }
      states.forEach((v, s) -> addStatus(list, v, s));
    }
    return write(root);
  }

  private static void addStatus(ArrayNode list, long version, ModelVersions.Status s) {
    ObjectNode o = list.addObject();
    o.put("version", Long.toString(version));
    o.put("state", s.state().name());
    ObjectNode status = o.putObject("status");
    status.put("error_code", s.errorCode().name());
    status.put("error_message", s.errorMessage());
  }

  /** TF Serving's {@code GetModelMetadata} (signature defs of the version served) as JSON. */
  private String metadata(RestRoute route) {
    try (ModelVersions.Handle h = acquire(route)) {
      ObjectNode root = RestJson.mapper().createObjectNode();
      ObjectNode spec = root.putObject("model_spec");
      spec.put("name", options.modelName());
      spec.put("signature_name", "");
      spec.put("version", Long.toString(h.version()));
      root.putObject("metadata").set("signature_def", ProtoJson.signatureDefMap(h.model().signatures()));
      return write(root);
    }
  }

  private static String write(ObjectNode root) {
    try {
      return RestJson.mapper().writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON tree", e);
    }
  }

  /** A body over the limit. */
  private static final class BodyTooLarge extends Exception {
    BodyTooLarge(String message) {
      super(message);
    }
  }

  private byte[] readBody(HttpExchange ex) throws IOException, BodyTooLarge {
    long limit = options.bodyLimitBytes();
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      long declared;
      try {
        declared = Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        declared = -1;
      }
      if (declared > limit) {
        throw new BodyTooLarge(tooLarge(Long.toString(declared), limit));
      }
    }
    try (InputStream in = ex.getRequestBody()) {
      byte[] body = in.readNBytes((int) limit + 1);
      if (body.length > limit) {
        throw new BodyTooLarge(tooLarge("more than " + limit, limit));
      }
      return body;
    }
  }

  private static String tooLarge(String bytes, long limit) {
    return "Request body of " + bytes + " bytes is larger than the server's limit of " + limit + " bytes ("
        + ServerOptions.BODY_LIMIT_FLAG + ")";
  }

  private static void reply(HttpExchange ex, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static String oneLine(String s) {
    String line = s.replaceAll("\\s*\\R\\s*", " ");
    return line.length() > 300 ? line.substring(0, 300) + "..." : line;
  }

  /**
   * Lets the requests in flight finish (up to the read timeout: those run in request threads and
   * those waiting on a batch alike; a request that reaches the handler after this began is answered
   * UNAVAILABLE, {@value #SHUTTING_DOWN}), then stops the HTTP server (closing its connections),
   * closes the {@link PredictHandler} (a batching one runs what is still queued and stops its
   * threads) and unloads the model. The handler is closed only after the request threads are done,
   * so that a request already read is answered rather than refused. The drain is counted here, not
   * left to {@code HttpServer.stop(delay)}, which in JDK 17 always waits its whole delay. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    closing = true;
    watcher.close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.readTimeoutSeconds());
    try {
      while (inFlight.get() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(DRAIN_POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (inFlight.get() > 0) {
      log.accept("error: " + inFlight.get() + " requests still running " + options.readTimeoutSeconds()
          + " s after shutdown began (" + ServerOptions.READ_TIMEOUT_FLAG + "); their connections are closed");
    }
    http.stop(0);
    executor.shutdown();
    try {
      executor.awaitTermination(options.readTimeoutSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      predict.close();
    } finally {
      versions.close();
    }
  }

  /** For messages. */
  @Override
  public String toString() {
    return "ModelServer[" + options.modelName() + " at " + modelUrl() + "]";
  }

}
