package dev.upcycle.train.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-step metrics as JSONL ({@code metrics.jsonl}) and TensorBoard scalars. JSON keys:
 * {@code step, loss, cross_entropy, z_loss, aux_loss, router_z_loss, learning_rate, grad_norm,
 * tokens_per_s} and per MoE layer {@code moe/<layer>/expert_fraction} (array [E]),
 * {@code .../dropped_fraction}, {@code .../router_z_loss}, {@code .../aux_loss}. TensorBoard gets the
 * same scalars (expert fractions as {@code moe/<layer>/expert_fraction/<e>}) plus eval figures.
 */
public final class MetricsLog implements TrainListener, AutoCloseable {

  public static final String JSONL = "metrics.jsonl";
  public static final String EVENTS = "events";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final BufferedWriter jsonl;
  private final EventFileWriter events;

  /**
   * Opens {@code <dir>/metrics.jsonl} for appending and a new event file in {@code <dir>/events}.
   * When resuming from {@code resumeStep}, lines for later steps (written by the interrupted job
   * after its last checkpoint) are dropped first, so the file reads as one uninterrupted run.
   */
  public MetricsLog(Path dir, long resumeStep) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(JSONL);
    if (Files.exists(file)) {
      truncateAfter(file, resumeStep);
    }
    this.jsonl = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    this.events = new EventFileWriter(dir.resolve(EVENTS));
  }

  public Path eventFile() {
    return events.file();
  }

  private static void truncateAfter(Path file, long step) throws IOException {
    List<String> kept = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      try {
        if (JSON.readTree(line).path("step").asLong(Long.MAX_VALUE) <= step) {
          kept.add(line);
        }
      } catch (IOException e) {
        // a line cut by a kill: drop it
      }
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(tmp, kept, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The JSON object of one step. */
  public static ObjectNode toJson(StepMetrics m) {
    ObjectNode o = JSON.createObjectNode();
    o.put("step", m.step());
    o.put("loss", m.loss());
    o.put("cross_entropy", m.crossEntropy());
    o.put("z_loss", m.zLoss());
    o.put("aux_loss", m.auxLoss());
    o.put("router_z_loss", m.routerZLoss());
    o.put("learning_rate", m.learningRate());
    o.put("grad_norm", m.gradNorm());
    o.put("tokens_per_s", m.tokensPerS());
    for (MoeLayerMetrics l : m.moe()) {
      String p = "moe/" + l.layer() + "/";
      ArrayNode fr = o.putArray(p + "expert_fraction");
      for (double f : l.expertFraction()) {
        fr.add(f);
      }
      o.put(p + "dropped_fraction", l.droppedFraction());
      o.put(p + "router_z_loss", l.routerZLoss());
      o.put(p + "aux_loss", l.auxLoss());
    }
    return o;
  }

  /** The TensorBoard scalars of one step. */
  public static Map<String, Double> scalars(StepMetrics m) {
    Map<String, Double> s = new LinkedHashMap<>();
    s.put("loss", m.loss());
    s.put("cross_entropy", m.crossEntropy());
    s.put("z_loss", m.zLoss());
    s.put("aux_loss", m.auxLoss());
    s.put("router_z_loss", m.routerZLoss());
    s.put("learning_rate", m.learningRate());
    s.put("grad_norm", m.gradNorm());
    s.put("tokens_per_s", m.tokensPerS());
    for (MoeLayerMetrics l : m.moe()) {
      String p = "moe/" + l.layer() + "/";
      double[] f = l.expertFraction();
      for (int e = 0; e < f.length; e++) {
        s.put(p + "expert_fraction/" + e, f[e]);
      }
      s.put(p + "dropped_fraction", l.droppedFraction());
      s.put(p + "router_z_loss", l.routerZLoss());
      s.put(p + "aux_loss", l.auxLoss());
    }
    return s;
  }

  @Override
  public void onStep(StepMetrics m) {
    try {
      jsonl.write(JSON.writeValueAsString(toJson(m)));
      jsonl.newLine();
      jsonl.flush();
      events.scalars(m.step(), scalars(m));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("writing metrics of step " + m.step(), e);
    }
  }

  @Override
  public void onEval(long step, double loss, double accuracy) {
    try {
      events.scalars(step, Map.of("eval/loss", loss, "eval/accuracy", accuracy));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("writing eval metrics of step " + step, e);
    }
  }

  @Override
  public void onCheckpoint(long step, Path folder) {
    try {
      events.flush();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      jsonl.close();
    } finally {
      events.close();
    }
  }
}
