package dev.upcycle.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.upcycle.model.ModelSpec;
import dev.upcycle.model.Presets;
import dev.upcycle.model.VitConfig;
import dev.upcycle.model.arch.BatchShape;
import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.RestPredict;
import dev.upcycle.savedmodels.rest.ServedModel;
import dev.upcycle.savedmodels.rest.batching.BatchingParameters;
import dev.upcycle.savedmodels.rest.batching.BatchingPredictor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batching on a SavedModel our exporter wrote (a dense ViT exported for batch 4): concurrent
 * requests of 1 to 3 images get exactly the unbatched answers, merged runs never exceed the
 * export's batch although {@code max_batch_size} is larger (it is read from the model's
 * provenance), and a request larger than the export's batch gets the graph's own error, as
 * unbatched — or, with {@code enable_large_batch_splitting}, is split into batches the graph takes.
 */
class BatchingExportTest {

  private static final VitConfig VIT = (VitConfig) Presets.get("vit-mnist");
  private static final int EXPORT_BATCH = 4;
  private static final JsonMapper JSON = RestJson.mapper();

  @TempDir Path tmp;

  private static String request(float[] pixels, int n, boolean columnar) {
    return request(pixels, 0, n, columnar);
  }

  /** Images {@code [from, to)} of {@code pixels}. */
  private static String request(float[] pixels, int from, int to, boolean columnar) {
    String images = IntStream.range(from, to).mapToObj(i -> RestPredictTest.image(pixels, i))
        .collect(Collectors.joining(",", "[", "]"));
    return columnar ? "{\"inputs\": {\"images\": " + images + "}}" : "{\"instances\": " + images + "}";
  }

  private static String answer(ServedModel model, String body, BatchingPredictor batching) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    try {
      return batching == null ? RestPredict.predict(model, bytes, "t") : batching.predict(model, bytes, "t");
    } catch (RestError e) {
      return e.status();
    }
  }

  @Test
  void concurrentRequestsToAnExportedVitGetTheUnbatchedAnswers() throws Exception {
    ModelSpec spec = ModelSpec.dense(VIT);
    RestPredictTest.checkpoint(spec, new BatchShape(EXPORT_BATCH, 1, 1), tmp.resolve("ckpt/model.ckpt-1"));
    SavedModelExporter.export(spec, tmp.resolve("ckpt"), tmp.resolve("serving"),
        ExportOptions.defaults().withBatch(EXPORT_BATCH).withVerify(false), null, line -> { });
    int clients = 8;
    int each = 12;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    BatchingParameters params = new BatchingParameters(16, 5000, 100, 2, "vit_batch_threads", List.of(), false,
        false, 0);
    try (ServedModel vit = ServedModel.load(ServingVersions.resolve(tmp.resolve("serving")));
        BatchingPredictor batching = BatchingPredictor.start(params)) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < each; i++) {
            int n = 1 + (client + i) % 3;
            String body = request(RestPredictTest.pixels(n, client * 1000L + i), n, (client + i) % 2 == 0);
            String batched = answer(vit, body, batching);
            assertTrue(batched.startsWith("{\""), batched);
            RestAnswers.assertSameAnswer(answer(vit, body, null), batched, "client " + client + " request " + i);
          }
          return each;
        }));
      }
      start.countDown();
      int answered = 0;
      for (Future<Integer> f : done) {
        answered += f.get(10, TimeUnit.MINUTES);
      }
      assertEquals(clients * each, answered);
      BatchingPredictor.Stats s = batching.stats();
      assertTrue(s.runs() < s.requests(), "batching happened: " + s);
      assertTrue(s.largestBatchRows() > 1 && s.largestBatchRows() <= EXPORT_BATCH,
          "batches of at most the export's batch: " + s);

      String five = request(RestPredictTest.pixels(5, 7), 5, false);
      String refused = answer(vit, five, batching);
      assertTrue(refused.startsWith("INVALID_ARGUMENT: ") && refused.contains("request batch must hold 1 to 4"),
          refused);
      assertEquals(answer(vit, five, null), refused, "run alone, the graph's own error");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void withSplittingARequestLargerThanTheExportsBatchIsAnswered() throws Exception {
    ModelSpec spec = ModelSpec.dense(VIT);
    RestPredictTest.checkpoint(spec, new BatchShape(EXPORT_BATCH, 1, 1), tmp.resolve("ckpt/model.ckpt-1"));
    SavedModelExporter.export(spec, tmp.resolve("ckpt"), tmp.resolve("serving"),
        ExportOptions.defaults().withBatch(EXPORT_BATCH).withVerify(false), null, line -> { });
    BatchingParameters split = new BatchingParameters(16, 1000, 10, 1, "vit_batch_threads", List.of(), false, true,
        0);
    float[] pixels = RestPredictTest.pixels(10, 99);
    try (ServedModel vit = ServedModel.load(ServingVersions.resolve(tmp.resolve("serving")));
        BatchingPredictor batching = BatchingPredictor.start(split)) {
      String ten = request(pixels, 0, 10, false);
      assertTrue(answer(vit, ten, null).contains("request batch must hold 1 to 4"), "unbatched, the graph refuses 10");
      JsonNode batched = JSON.readTree(answer(vit, ten, batching)).get("predictions");
      ArrayNode expected = JSON.createArrayNode();
      for (int[] chunk : new int[][] {{0, 4}, {4, 8}, {8, 10}}) {
        expected.addAll((ArrayNode) JSON.readTree(answer(vit, request(pixels, chunk[0], chunk[1], false), null))
            .get("predictions"));
      }
      RestAnswers.assertSameAnswer(expected, batched, "10 images split into batches of at most 4, put back together");
      assertEquals(3, batching.stats().runs());
    }
  }
}
