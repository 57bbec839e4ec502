package dev.upcycle.train.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcycle.train.metrics.MetricsLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-expert load over training, read back from a run's {@code metrics.jsonl}: for each MoE layer,
 * the fraction of routed token slots each expert took and the fraction of tokens no expert
 * processed, per step.
 *
 * @param layers MoE layer name (e.g. {@code encoder/layers_3/mlp}) → its series
 */
public record ExpertLoad(Map<String, Series> layers) {

  private static final String PREFIX = "moe/";
  private static final String FRACTION = "/expert_fraction";
  private static final String DROPPED = "/dropped_fraction";

  /**
   * One layer's series.
   *
   * @param steps step counters
   * @param fractions per step, each expert's share [steps][experts]
   * @param dropped per step, the fraction of tokens left unprocessed
   */
  public record Series(long[] steps, double[][] fractions, double[] dropped) {}

  /** Reads {@code <runDir>/metrics.jsonl}; every {@code every}-th step is kept. */
  public static ExpertLoad read(Path runDir, int every) throws IOException {
    Path file = runDir.resolve(MetricsLog.JSONL);
    ObjectMapper json = new ObjectMapper();
    Map<String, List<long[]>> steps = new TreeMap<>();
    Map<String, List<double[]>> fractions = new TreeMap<>();
    Map<String, List<Double>> dropped = new TreeMap<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode row = json.readTree(line);
        if (!row.has("step") || row.get("step").asLong() % every != 0) {
          continue;
        }
        long step = row.get("step").asLong();
        for (Iterator<String> it = row.fieldNames(); it.hasNext(); ) {
          String key = it.next();
          if (key.startsWith(PREFIX) && key.endsWith(FRACTION)) {
            String layer = key.substring(PREFIX.length(), key.length() - FRACTION.length());
            JsonNode arr = row.get(key);
            double[] f = new double[arr.size()];
            for (int i = 0; i < f.length; i++) {
              f[i] = arr.get(i).asDouble();
            }
            steps.computeIfAbsent(layer, k -> new ArrayList<>()).add(new long[] {step});
            fractions.computeIfAbsent(layer, k -> new ArrayList<>()).add(f);
            JsonNode d = row.get(PREFIX + layer + DROPPED);
            dropped.computeIfAbsent(layer, k -> new ArrayList<>()).add(d == null ? Double.NaN : d.asDouble());
          }
        }
      }
    }
    Map<String, Series> out = new TreeMap<>();
    for (String layer : steps.keySet()) {
      List<long[]> s = steps.get(layer);
      long[] st = new long[s.size()];
      double[] dr = new double[s.size()];
      for (int i = 0; i < st.length; i++) {
        st[i] = s.get(i)[0];
        dr[i] = dropped.get(layer).get(i);
      }
      out.put(layer, new Series(st, fractions.get(layer).toArray(new double[0][]), dr));
    }
    return new ExpertLoad(out);
  }
}
