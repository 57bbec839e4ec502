package dev.upcycle.tools.cli;

import dev.upcycle.tools.bench.ServeBenchmark;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle bench serve}: the model server over loopback HTTP, dense vs upcycled, batching on and off. */
@Command(name = "serve", description = {"Serve dense and upcycled ViT-tiny and t5-small SavedModels (fresh weights,"
    + " exported in-process) over HTTP on loopback: p50/p99 latency with one client (the variants interleaved),"
    + " throughput and p99 with concurrent clients, batching off and on (JSON)."})
public final class ServeBenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--quick", description = "vit-mnist and t5-tiny, 4 clients, a few requests: the same JSON in"
      + " seconds (a smoke test, not a measurement).")
  boolean quick;

  @Option(names = "--clients", paramLabel = "N", description = "Concurrent clients. Default: 32 (quick: 4).")
  Integer clients;

  @Option(names = "--requests", paramLabel = "N",
      description = "Timed requests of each concurrent client. Default: 8 (quick: 3).")
  Integer requests;

  @Option(names = "--single-requests", paramLabel = "N",
      description = "Timed rounds of the single client, each one request to every variant (interleaved)."
          + " Default: 100 (quick: 5).")
  Integer singleRequests;

  @Option(names = "--experts", paramLabel = "E", description = "Experts of the upcycled models. Default: 8 (quick: 4).")
  Integer experts;

  @Option(names = "--eval-capacity-factor", paramLabel = "C",
      description = "Also export the upcycled models with this eval capacity factor (as `export"
          + " --eval-capacity-factor`) and measure them with one client (variant moe_eval). Default: not measured.")
  Double evalCapacityFactor;

  @Option(names = "--dir", description = "Scratch folder for the checkpoints and exports (removed at the end)."
      + " Default: the temp folder.")
  Path dir;

  @Override
  public Integer call() throws Exception {
    Path work = dir == null ? Path.of(System.getProperty("java.io.tmpdir")) : dir;
    ServeBenchmark.Settings s = quick ? ServeBenchmark.Settings.quick(work) : ServeBenchmark.Settings.full(work);
    if (clients != null) {
      s = s.withClients(clients);
    }
    if (requests != null || singleRequests != null) {
      s = s.withRequests(singleRequests == null ? s.singleRequests() : singleRequests,
          requests == null ? s.requestsPerClient() : requests);
    }
    if (experts != null) {
      s = s.withExperts(experts);
    }
    if (evalCapacityFactor != null) {
      s = s.withEvalCapacityFactor(evalCapacityFactor);
    }
    ServeBenchmark.run(s, System.err).print(spec.commandLine().getOut());
    return 0;
  }
}
