package dev.upcycle.savedmodels.server;

import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.savedmodels.ServingVersions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** Test helpers: servers on loopback with an ephemeral port, fixtures as model bases, a JDK HTTP client. */
public final class TestServers {

  /** The read timeout every test server uses (the JDK's limit is JVM-wide: one value for all tests). */
  public static final int READ_TIMEOUT_SECONDS = 3;

  public static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private TestServers() {}

  /** Options for model {@code name} at {@code base}: 127.0.0.1, any port, no background polling. */
  public static ServerOptions options(String name, Path base) {
    return ServerOptions.of(name, base).withHost("127.0.0.1").withPort(0).withPollSeconds(0).withThreads(4)
        .withReadTimeoutSeconds(READ_TIMEOUT_SECONDS);
  }

  /** A started server and the lines it logged. */
  public record Running(ModelServer server, List<String> log) implements AutoCloseable {
    public static Running start(ServerOptions options) throws IOException {
      return start(options, PredictHandler.DIRECT);
    }

    public static Running start(ServerOptions options, PredictHandler predict) throws IOException {
      List<String> log = new CopyOnWriteArrayList<>();
      return new Running(ModelServer.start(options, predict, log::add), log);
    }

    /** {@code http://127.0.0.1:PORT} + {@code path}. */
    public URI uri(String path) {
      return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    public Answer post(String path, String body) throws IOException, InterruptedException {
      return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public Answer get(String path) throws IOException, InterruptedException {
      return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    public Answer send(HttpRequest.Builder request) throws IOException, InterruptedException {
      HttpResponse<String> r = CLIENT.send(request.timeout(Duration.ofSeconds(60)).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Answer(r.statusCode(), r.body(), r.headers().firstValue("Content-Type").orElse(""));
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /**
   * Waits until {@code condition} holds (things the server does after answering, such as logging
   * or counting a request done); fails naming {@code what} after 60 s.
   */
  public static void await(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("still not so after 60 s: " + what.get());
      }
      Thread.sleep(20);
    }
  }

  /** An HTTP answer. */
  public record Answer(int status, String body, String contentType) {}

  /**
   * A model base for fixture {@code fixture} (a path under testdata/): the fixture itself when it
   * holds numbered versions, else a copy of the version folder as {@code tmp/NAME/1}.
   */
  public static Path base(String fixture, Path tmp) throws IOException {
    Path dir = Fixtures.fixture(fixture);
    if (!Files.isRegularFile(dir.resolve(ServingVersions.SAVED_MODEL))) {
      return dir;
    }
    Path base = tmp.resolve(fixture.replace('/', '_'));
    copyTree(dir, base.resolve("1"));
    return base;
  }

  /** The version folder TF Serving would serve from fixture {@code fixture}. */
  public static Path versionDir(String fixture) throws IOException {
    return ServingVersions.resolve(Fixtures.fixture(fixture));
  }

  /** Copies {@code from} to {@code to} (which must not exist), files and folders. */
  public static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
