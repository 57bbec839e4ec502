package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.upcycle.model.testing.Fixtures;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.TfCode;
import dev.upcycle.tools.Main;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code upcycle serve} end to end, in a child JVM: it prints {@code ready: URL}; {@code curl} gets
 * TF Serving's answers for every example of {@code examples.json} on half_plus_two, its model status
 * and metadata, with {@code --enable_batching}; then {@code kill -TERM} while a request is in flight:
 * that request still gets its answer (through the batching queue, which is closed only after the
 * request threads are done), and the server exits 0.
 */
class ServeCliTest {

  static final String FIXTURE = "tfserving_saved_model_half_plus_two_cpu";

  @TempDir Path tmp;

  /** curl's exit code, body and HTTP status. */
  record Curl(int exit, String body, int status) {}

  private static Curl curl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = p.waitFor();
    int nl = out.lastIndexOf('\n');
    return new Curl(exit, out.substring(0, Math.max(nl, 0)), nl < 0 ? -1 : Integer.parseInt(out.substring(nl + 1).strip()));
  }

  private static boolean hasCurl() {
    try {
      return new ProcessBuilder("curl", "--version").redirectErrorStream(true).start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void aMissingBasePathOrBadFlagIsRefusedBeforeListening() {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    Path missing = tmp.resolve("nope");
    int code = Main.execute(new String[] {"serve", "--model_base_path", missing.toString(), "--rest_api_port", "0"},
        new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true), java.util.Map.of());
    assertEquals(1, code, err.toString());
    assertTrue(err.toString().contains("error: --model_base_path " + missing + ": no such folder"), err.toString());
    assertEquals("", out.toString());
    err.getBuffer().setLength(0);
    code = Main.execute(new String[] {"serve", "--model_base_path", tmp.toString(), "--rest_api_port=70000"},
        new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true), java.util.Map.of());
    assertEquals(1, code, err.toString());
    assertTrue(err.toString().contains("--rest_api_port must be in [0, 65535]"), err.toString());
  }

  /** As TF Serving's {@code server.cc}: a parameters file without {@code --enable_batching} is refused at startup. */
  @Test
  void aBatchingParametersFileNeedsEnableBatchingAndMustBeValid() throws Exception {
    Path params = Files.writeString(tmp.resolve("batching.txt"), "max_batch_size { value: 8 }\n");
    String[] base = {"serve", "--model_base_path", tmp.toString(), "--rest_api_port", "0"};
    Run r = run(base, "--batching_parameters_file", params.toString());
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().contains("server_options.batching_parameters_file is set without setting"
        + " server_options.enable_batching to true (--batching_parameters_file " + params
        + " needs --enable_batching)"),
        r.err());
    Files.writeString(params, "max_batch_size { value: 8 }\nmax_batch { value: 2 }\n");
    r = run(base, "--enable_batching", "--batching_parameters_file", params.toString());
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().contains(params + ":2:1: unknown field \"max_batch\""), r.err());
    Path missing = tmp.resolve("nope.txt");
    r = run(base, "--enable_batching=true", "--batching_parameters_file=" + missing);
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().contains("--batching_parameters_file " + missing + ": no such file"), r.err());
    r = run(base, "--enable_batching=maybe");
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
  }

  /** Exit code and output of {@code Main} in this JVM. */
  record Run(int code, String out, String err) {}

  private static Run run(String[] args, String... more) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(more))
        .toArray(String[]::new);
    int code = Main.execute(all, new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true),
        java.util.Map.of());
    return new Run(code, out.toString(), err.toString());
  }

  /** Waits up to 60 s for a line of the server's stderr that matches; fails with {@code what} and the lines so far. */
  private static void awaitErrLine(List<String> err, java.util.function.Predicate<String> line, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (err.stream().noneMatch(line)) {
      assertTrue(System.nanoTime() < deadline, what + ": " + err);
      Thread.sleep(20);
    }
  }

  @Test
  void curlGetsTfServingsAnswersAndSigtermDrainsAndExitsZero() throws Exception {
    assumeTrue(hasCurl(), "curl is not installed (.ci/run installs it)");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path batching = Files.writeString(tmp.resolve("batching.txt"), "max_batch_size { value: 8 }\n"
        + "batch_timeout_micros { value: 2000 }\nnum_batch_threads { value: 1 }\n");
    Process server = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "serve", "--model_name", "hpt", "--model_base_path", Fixtures.fixture(FIXTURE).toString(),
        "--rest_api_port", "0", "--rest_api_host", "127.0.0.1", "--file_system_poll_wait_seconds", "1",
        "--enable_batching", "--batching_parameters_file", batching.toString()).start();
    List<String> err = new CopyOnWriteArrayList<>();
    Thread errReader = new Thread(() -> new BufferedReader(new InputStreamReader(server.getErrorStream(),
        StandardCharsets.UTF_8)).lines().forEach(err::add));
    errReader.start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String ready = CompletableFuture.supplyAsync(() -> {
        try {
          for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("ready: ")) {
              return line;
            }
          }
          return "exited";
        } catch (java.io.IOException e) {
          return e.toString();
        }
      }).get(180, TimeUnit.SECONDS);
      assertTrue(ready.startsWith("ready: http://127.0.0.1:"), ready + " " + err);
      String url = ready.substring("ready: ".length());
      assertTrue(url.endsWith("/v1/models/hpt"), url);
      // stderr is read on its own thread: the batching line, printed before "ready:", may arrive after it
      awaitErrLine(err, l -> l.startsWith("batching: BatchingParameters[maxBatchSize=8, batchTimeoutMicros=2000,"),
          "no batching line before ready");

      // every example of the table for this model, through curl
      JsonNode table = RestJson.mapper().readTree(Files.readString(Fixtures.fixture(
          "tfserving_rest_examples/examples.json")));
      int n = 0;
      for (JsonNode e : table.get("examples")) {
        if (!e.get("model").asText().equals(FIXTURE)) {
          continue;
        }
        Path body = Files.writeString(tmp.resolve("request-" + n++ + ".json"), e.get("body").asText());
        Curl c = curl("-H", "Content-Type: application/json", "--data-binary", "@" + body, url + ":predict");
        String what = e.get("body").asText() + " (" + e.get("source").asText() + "): " + c;
        assertEquals(0, c.exit(), what);
        if (e.has("error")) {
          assertEquals(TfCode.valueOf(e.get("error").get("code").asText()).httpStatus(), c.status(), what);
          String message = RestJson.mapper().readTree(c.body()).get("error").asText();
          for (JsonNode part : e.get("error").get("contains")) {
            assertTrue(message.contains(part.asText()), what);
          }
        } else {
          assertEquals(200, c.status(), what);
          if (e.has("response_text")) {
            assertEquals(e.get("response_text").asText(), c.body(), what);
          } else {
            assertEquals(e.get("response"), RestJson.mapper().readTree(c.body()), what);
          }
        }
      }
      assertTrue(n >= 10, n + " examples for " + FIXTURE);
      Curl status = curl(url);
      assertEquals(200, status.status(), status.toString());
      assertEquals(RestJson.mapper().readTree("{\"model_version_status\": [{\"version\": \"123\", \"state\":"
          + " \"AVAILABLE\", \"status\": {\"error_code\": \"OK\", \"error_message\": \"\"}}]}"),
          RestJson.mapper().readTree(status.body()));
      Curl metadata = curl(url + "/metadata");
      assertEquals(200, metadata.status(), metadata.toString());
      assertEquals("123", RestJson.mapper().readTree(metadata.body()).get("model_spec").get("version").asText());
      assertEquals(404, curl(url.replace("/hpt", "/nope") + ":predict", "-d", "{\"instances\": [1.0]}").status());

      // SIGTERM with a request in flight (its body half sent): it is answered, then the server exits 0
      URI u = URI.create(url);
      String half = "{\"instances\": [1.0, ";
      String rest = "2.0, 5.0]}";
      try (Socket inFlight = new Socket(u.getHost(), u.getPort())) {
        inFlight.setSoTimeout(120_000);
        OutputStream o = inFlight.getOutputStream();
        o.write(("POST " + u.getPath() + ":predict HTTP/1.1\r\nHost: " + u.getHost() + "\r\nContent-Type: application/json"
            + "\r\nContent-Length: " + (half.length() + rest.length()) + "\r\nConnection: close\r\n\r\n" + half)
            .getBytes(StandardCharsets.UTF_8));
        o.flush();
        Thread.sleep(500); // the server has read the headers and waits for the rest of the body
        Process kill = new ProcessBuilder("kill", "-TERM", Long.toString(server.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor());
        awaitErrLine(err, l -> l.startsWith("stopping: draining in-flight requests (1)"), "no drain line after SIGTERM");
        o.write(rest.getBytes(StandardCharsets.UTF_8));
        o.flush();
        InputStream in = inFlight.getInputStream();
        String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.endsWith("{\"predictions\":[2.5,3.0,4.5]}"), response);
      }
      assertTrue(server.waitFor(120, TimeUnit.SECONDS), "the server exits after draining: " + err);
      assertEquals(0, server.exitValue(), err.toString());
      errReader.join(10_000);
      assertTrue(err.stream().anyMatch(l -> l.equals("stopped")), err.toString());
      assertTrue(err.stream().anyMatch(l -> l.equals("unloaded model hpt version 123")), err.toString());
    } finally {
      server.destroyForcibly();
    }
  }
}
