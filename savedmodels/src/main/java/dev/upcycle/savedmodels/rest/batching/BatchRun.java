package dev.upcycle.savedmodels.rest.batching;

import dev.upcycle.savedmodels.rest.HostTensor;
import dev.upcycle.savedmodels.rest.HostTensors;
import dev.upcycle.savedmodels.rest.ServedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Runs one batch as TF Serving's {@code BatchingSession::ProcessBatch}: each input is the
 * requests' tensors concatenated along dimension 0 in queue order ({@code [Σ n_i, d_1, …]}),
 * padded to an allowed batch size with copies of the first row of the last request; the signature
 * runs once; each output is cut back along dimension 0 into the requests' rows (the padding's rows
 * dropped). An error of the run goes to every request of the batch. Unlike TF Serving, an output
 * that cannot be cut so (rank 0, or another dimension 0 than the batch's rows) is not an error:
 * each request of the batch is run alone and gets its own answer, and the signature is not batched
 * again ({@link ModelBatching#markUnbatched}).
 */
final class BatchRun {

  private final BatchingParameters params;
  private final Runner runner;
  private final Function<ServedModel, ModelBatching> models;

  BatchRun(BatchingParameters params, Runner runner, Function<ServedModel, ModelBatching> models) {
    this.params = params;
    this.runner = runner;
    this.models = models;
  }

  /** Runs {@code tasks}, all of {@code key}, in one batch of at most {@code limit} rows; completes each. */
  void process(BatchKey key, long limit, List<BatchTask> tasks) {
    long rows = tasks.stream().mapToLong(BatchTask::rows).sum();
    long padded = params.paddedSize(rows) <= limit ? params.paddedSize(rows) : rows;
    boolean alone = tasks.size() == 1 && padded == rows;
    SortedMap<String, HostTensor> outputs;
    try {
      SortedMap<String, HostTensor> inputs = alone ? tasks.get(0).request().inputs() : merge(key, tasks, padded - rows);
      outputs = runner.run(key.model(), key.signature(), inputs);
    } catch (RuntimeException | Error e) {
      tasks.forEach(t -> t.fail(e));
      return;
    }
    if (!splittable(outputs, padded)) {
      models.apply(key.model()).markUnbatched(key.signature());
      if (alone) {
        tasks.get(0).complete(outputs);
      } else {
        tasks.forEach(t -> runAlone(key, t));
      }
      return;
    }
    if (alone) {
      tasks.get(0).complete(outputs);
      return;
    }
    long[] sizes = new long[tasks.size() + (padded > rows ? 1 : 0)];
    for (int i = 0; i < tasks.size(); i++) {
      sizes[i] = tasks.get(i).rows();
    }
    if (padded > rows) {
      sizes[tasks.size()] = padded - rows;
    }
    List<SortedMap<String, HostTensor>> answers = new ArrayList<>();
    tasks.forEach(t -> answers.add(new TreeMap<>()));
    for (Map.Entry<String, HostTensor> out : outputs.entrySet()) {
      List<HostTensor> pieces = HostTensors.split(out.getValue(), sizes);
      for (int i = 0; i < tasks.size(); i++) {
        answers.get(i).put(out.getKey(), pieces.get(i));
      }
    }
    for (int i = 0; i < tasks.size(); i++) {
      tasks.get(i).complete(answers.get(i));
    }
  }

  /** The batch's inputs: each key's tensors joined, then {@code padding} copies of the last request's first row. */
  private static SortedMap<String, HostTensor> merge(BatchKey key, List<BatchTask> tasks, long padding) {
    SortedMap<String, HostTensor> merged = new TreeMap<>();
    for (String name : key.inputs().keySet()) {
      List<HostTensor> parts = new ArrayList<>();
      for (BatchTask t : tasks) {
        parts.add(t.request().inputs().get(name));
      }
      HostTensor firstRow = HostTensors.slice(parts.get(parts.size() - 1), 0, 1);
      for (long i = 0; i < padding; i++) {
        parts.add(firstRow);
      }
      merged.put(name, HostTensors.concat(parts));
    }
    return merged;
  }

  /** Whether every output has rank ≥ 1 and {@code rows} rows. */
  private static boolean splittable(SortedMap<String, HostTensor> outputs, long rows) {
    for (HostTensor t : outputs.values()) {
      long[] shape = t.shape();
      if (shape.length == 0 || shape[0] != rows) {
        return false;
      }
    }
    return true;
  }

  private void runAlone(BatchKey key, BatchTask task) {
    try {
      task.complete(runner.run(key.model(), key.signature(), task.request().inputs()));
    } catch (RuntimeException | Error e) {
      task.fail(e);
    }
  }
}
