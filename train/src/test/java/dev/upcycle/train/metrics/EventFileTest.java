package dev.upcycle.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.Summary;

/** Event files and JSONL read back with an independent TFRecord parser (CRCs checked). */
class EventFileTest {

  @Test
  void knownCrcOfTfRecordFraming() {
    // CRC32C("123456789") = 0xE3069283 (RFC 3720 check value); masked per TFRecord
    int crc = 0xE3069283;
    int masked = ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    assertEquals(masked, TfRecordWriter.maskedCrc("123456789".getBytes()));
  }

  @Test
  void metricsAreReadBackFromEventFileAndJsonl(@TempDir Path dir) throws IOException {
    StepMetrics m1 = new StepMetrics(1, 2.5, 2.4, 0.01, 0.3, 0.7, 0.01, 1.5, 1000,
        List.of(new MoeLayerMetrics("encoder/layers_1/mlp", new double[] {0.25, 0.75}, 0.125, 0.5, 0.0)));
    StepMetrics m2 = new StepMetrics(2, 2.25, 2.2, 0.01, 0.3, 0.7, 0.02, 1.25, 1100, m1.moe());
    Path file;
    try (MetricsLog log = new MetricsLog(dir, 0)) {
      log.onStep(m1);
      log.onStep(m2);
      log.onEval(2, 3.5, 0.25);
      file = log.eventFile();
    }
    assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."));
    List<Event> events = readEvents(file);
    assertEquals(4, events.size());
    assertEquals("brain.Event:2", events.get(0).getFileVersion());
    Map<String, Float> s1 = values(events.get(1));
    assertEquals(1, events.get(1).getStep());
    assertEquals(2.5f, s1.get("loss"));
    assertEquals(0.01f, s1.get("learning_rate"));
    assertEquals(0.75f, s1.get("moe/encoder/layers_1/mlp/expert_fraction/1"));
    assertEquals(0.125f, s1.get("moe/encoder/layers_1/mlp/dropped_fraction"));
    assertEquals(2, events.get(2).getStep());
    assertEquals(1.25f, values(events.get(2)).get("grad_norm"));
    assertEquals(3.5f, values(events.get(3)).get("eval/loss"));

    List<String> lines = Files.readAllLines(dir.resolve(MetricsLog.JSONL));
    assertEquals(2, lines.size());
    JsonNode j = new ObjectMapper().readTree(lines.get(0));
    for (String k : List.of("step", "loss", "cross_entropy", "z_loss", "aux_loss", "router_z_loss", "learning_rate",
        "grad_norm", "tokens_per_s")) {
      assertTrue(j.has(k), k);
    }
    assertEquals(0.75, j.get("moe/encoder/layers_1/mlp/expert_fraction").get(1).asDouble());
    assertEquals(0.5, j.get("moe/encoder/layers_1/mlp/router_z_loss").asDouble());

    // resuming from step 1 drops the line of step 2 (written after the last checkpoint)
    try (MetricsLog log = new MetricsLog(dir, 1)) {
      log.onStep(m2.withTokensPerS(5));
    }
    lines = Files.readAllLines(dir.resolve(MetricsLog.JSONL));
    assertEquals(2, lines.size());
    assertEquals(5.0, new ObjectMapper().readTree(lines.get(1)).get("tokens_per_s").asDouble());
  }

  private static Map<String, Float> values(Event e) {
    Map<String, Float> out = new LinkedHashMap<>();
    for (Summary.Value v : e.getSummary().getValueList()) {
      out.put(v.getTag(), v.getSimpleValue());
    }
    return out;
  }

  /** An independent TFRecord reader: checks both masked CRCs of every record. */
  static List<Event> readEvents(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    List<Event> out = new ArrayList<>();
    while (b.hasRemaining()) {
      byte[] len = new byte[8];
      b.get(len);
      assertEquals(mask(len), b.getInt(), "length CRC");
      long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
      byte[] data = new byte[(int) n];
      b.get(data);
      assertEquals(mask(data), b.getInt(), "data CRC");
      out.add(Event.parseFrom(data));
    }
    return out;
  }

  private static int mask(byte[] data) {
    CRC32C c = new CRC32C();
    c.update(data);
    int v = (int) c.getValue();
    return Integer.rotateRight(v, 15) + 0xa282ead8;
  }
}
