package dev.upcycle.savedmodels.rest.batching;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.savedmodels.rest.HostTensor;
import dev.upcycle.savedmodels.rest.PredictRequest;
import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.TfCode;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One request waiting in a batch (TF Serving's {@code BatchingSessionTask}): its tensors, its rows
 * (dimension 0 of every input) and the outputs it gets back — its own rows of the batch's outputs,
 * or the error of the batch's run.
 */
final class BatchTask {

  private final PredictRequest request;
  private final long rows;
  private final CompletableFuture<SortedMap<String, HostTensor>> outputs = new CompletableFuture<>();

  BatchTask(PredictRequest request, long rows) {
    this.request = checkNotNull(request, "request");
    this.rows = rows;
  }

  PredictRequest request() {
    return request;
  }

  long rows() {
    return rows;
  }

  void complete(SortedMap<String, HostTensor> result) {
    outputs.complete(result);
  }

  void fail(Throwable error) {
    outputs.completeExceptionally(error);
  }

  boolean isDone() {
    return outputs.isDone();
  }

  /**
   * Waits for the batch to run and returns this request's outputs.
   *
   * @throws RestError the batch run's error (every request of the batch gets it), or CANCELLED when
   *     the waiting thread is interrupted
   */
  SortedMap<String, HostTensor> await() {
    try {
      return outputs.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RestError(TfCode.CANCELLED, "interrupted while waiting for its batch to run", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("a batch failed", cause);
    }
  }
}
