package dev.upcycle.savedmodels.rest.batching;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.savedmodels.rest.HostTensor;
import dev.upcycle.savedmodels.rest.PredictRequest;
import dev.upcycle.savedmodels.rest.PredictRequestReader;
import dev.upcycle.savedmodels.rest.PredictResponseWriter;
import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.RestJson;
import dev.upcycle.savedmodels.rest.RestPredict;
import dev.upcycle.savedmodels.rest.ServedModel;
import dev.upcycle.savedmodels.rest.TfCode;
import dev.upcycle.savedmodels.server.ModelServer;
import dev.upcycle.savedmodels.server.PredictHandler;
import dev.upcycle.savedmodels.rest.HostTensors;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * TF Serving's REST predict with server-side batching ({@code --enable_batching}): the same
 * answers as {@link RestPredict#predict(ServedModel, byte[], String)}, but concurrent requests for
 * the same model, signature, input dtypes and inner shapes wait in one queue and run as one batch
 * ({@link BatchScheduler}, {@link BatchRun}): merged along dimension 0 up to {@code max_batch_size}
 * rows (and at most the batch our exporter built the model for) or until
 * {@code batch_timeout_micros} has passed, run once, and cut back per request, each answer written
 * in its own request's format.
 *
 * <p>A request runs alone, in the calling thread, when it cannot be batched: an input of rank 0,
 * inputs of different dimension 0, no rows, more rows than the model's export batch (without
 * splitting), or a signature
 * with an output not batched along dimension 0 (TF Serving refuses the first two with
 * INVALID_ARGUMENT and fails a batch for the last one; here they get their unbatched answer). A
 * request of more than {@code max_batch_size} rows is refused with INVALID_ARGUMENT ({@code Task
 * size N is larger than maximum input batch size M}), as TF Serving does; with
 * {@code enable_large_batch_splitting} a request that does not fit in the open batch is split across
 * batches of at most {@code max_execution_batch_size} rows (and the export batch) and its answer put
 * back together. A full queue answers RESOURCE_EXHAUSTED at once.
 * Thread-safe; {@link #close()} runs what is queued and stops the batch threads.
 */
public final class BatchingPredictor implements PredictHandler, AutoCloseable {

  /**
   * Counts since start.
   *
   * @param requests requests read (those refused while reading are not counted)
   * @param runs signature runs: batches and requests run alone
   * @param batchedRuns runs of a batch of two or more requests (or pieces of split ones)
   * @param largestBatchRows the most rows of one batch, before padding
   * @param rejected requests refused for their size or a full queue
   */
  public record Stats(long requests, long runs, long batchedRuns, long largestBatchRows, long rejected) {}

  private final BatchingParameters params;
  private final Runner runner;
  private final BatchScheduler scheduler;
  private final Map<ServedModel, ModelBatching> models = Collections.synchronizedMap(new WeakHashMap<>());
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong runs = new AtomicLong();
  private final AtomicLong batchedRuns = new AtomicLong();
  private final AtomicLong largestBatch = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();

  private BatchingPredictor(BatchingParameters params, Runner runner) {
    this.params = checkNotNull(params, "params");
    Runner counted = (model, signature, inputs) -> {
      runs.incrementAndGet();
      return runner.run(model, signature, inputs);
    };
    this.runner = counted;
    BatchRun batchRun = new BatchRun(params, counted, this::batching);
    this.scheduler = new BatchScheduler(params, (key, limit, tasks) -> {
      if (tasks.size() > 1) {
        batchedRuns.incrementAndGet();
      }
      largestBatch.accumulateAndGet(tasks.stream().mapToLong(BatchTask::rows).sum(), Math::max);
      batchRun.process(key, limit, tasks);
    });
  }

  /** Starts the batch threads. */
  public static BatchingPredictor start(BatchingParameters params) {
    return new BatchingPredictor(params, ServedModel::run);
  }

  /** With {@code runner} in place of {@link ServedModel#run} (tests hold runs with it). */
  static BatchingPredictor start(BatchingParameters params, Runner runner) {
    return new BatchingPredictor(params, checkNotNull(runner, "runner"));
  }

  public BatchingParameters parameters() {
    return params;
  }

  /**
   * The response body for request body {@code body} ({@code source} names it in parse errors), as
   * {@link RestPredict#predict(ServedModel, byte[], String)} answers it.
   *
   * @throws RestError as {@link RestPredict} does; the batch's error for every request of a failed
   *     batch; RESOURCE_EXHAUSTED for a full queue; INVALID_ARGUMENT for more rows than
   *     {@code max_batch_size}; UNAVAILABLE after {@link #close()}
   */
  @Override
  public String predict(ServedModel model, byte[] body, String source) {
    checkNotNull(model, "model");
    PredictRequest request = PredictRequestReader.read(RestJson.parse(body, source), model::inputMap);
    return PredictResponseWriter.write(outputs(model, request), request.format());
  }

  /** The outputs of {@code request}'s signature for its own rows. */
  SortedMap<String, HostTensor> outputs(ServedModel model, PredictRequest request) {
    if (closed.get()) {
      throw new RestError(TfCode.UNAVAILABLE, ModelServer.SHUTTING_DOWN);
    }
    requests.incrementAndGet();
    OptionalLong rows = rows(request);
    if (rows.isEmpty()) {
      return runner.run(model, request.signatureName(), request.inputs());
    }
    if (rows.getAsLong() > params.maxBatchSize()) {
      rejected.incrementAndGet();
      throw new RestError(TfCode.INVALID_ARGUMENT, "Task size " + rows.getAsLong()
          + " is larger than maximum input batch size " + params.maxBatchSize());
    }
    ModelBatching batching = batching(model);
    long limit = Math.min(params.executionBatchSize(), batching.maxRows());
    String signature = request.signatureName();
    if (!batching.batchable(signature) || (rows.getAsLong() > limit && !params.enableLargeBatchSplitting())) {
      return runner.run(model, signature, request.inputs());
    }
    List<BatchTask> tasks;
    try {
      tasks = scheduler.schedule(BatchKey.of(model, request), limit, request, rows.getAsLong());
    } catch (RestError full) {
      rejected.incrementAndGet();
      throw full;
    }
    if (tasks.size() == 1) {
      return tasks.get(0).await();
    }
    List<SortedMap<String, HostTensor>> parts = tasks.stream().map(BatchTask::await).toList();
    if (!batching.batchable(signature)) {
      throw notBatched(signature, rows.getAsLong(), "an output does not have the batch's rows");
    }
    SortedMap<String, HostTensor> joined = new TreeMap<>();
    for (String name : parts.get(0).keySet()) {
      try {
        joined.put(name, HostTensors.concat(parts.stream().map(p -> p.get(name)).toList()));
      } catch (IllegalArgumentException e) {
        throw notBatched(signature, rows.getAsLong(), "output '" + name + "': " + e.getMessage());
      }
    }
    return joined;
  }

  private static RestError notBatched(String signature, long rows, String why) {
    return new RestError(TfCode.FAILED_PRECONDITION, "a request of " + rows + " rows was split across batches, but"
        + " the outputs of signature '" + signature + "' are not batched along dimension 0 (" + why + ")");
  }

  /** Dimension 0 shared by every input, when there is one, every input has rank ≥ 1 and it is ≥ 1. */
  private static OptionalLong rows(PredictRequest request) {
    long rows = -1;
    for (HostTensor t : request.inputs().values()) {
      long[] shape = t.shape();
      if (shape.length == 0 || (rows >= 0 && shape[0] != rows)) {
        return OptionalLong.empty();
      }
      rows = shape[0];
    }
    return rows >= 1 ? OptionalLong.of(rows) : OptionalLong.empty();
  }

  private ModelBatching batching(ServedModel model) {
    return models.computeIfAbsent(model, ModelBatching::of);
  }

  /** Requests waiting in the queues (not yet taken by a batch thread). */
  public long waiting() {
    return scheduler.waiting();
  }

  public Stats stats() {
    return new Stats(requests.get(), runs.get(), batchedRuns.get(), largestBatch.get(), rejected.get());
  }

  /**
   * Refuses new requests (UNAVAILABLE), runs every queued one and stops the batch threads. Requests
   * running alone in their callers' threads are not waited for ({@code ModelServer.close()} waits
   * for its request threads before it closes its handler).
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      scheduler.close();
    }
  }
}
