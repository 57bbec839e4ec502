package dev.upcycle.savedmodels.rest.batching;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.savedmodels.rest.HostTensor;
import dev.upcycle.savedmodels.rest.HostTensors;
import dev.upcycle.savedmodels.rest.PredictRequest;
import dev.upcycle.savedmodels.rest.RestError;
import dev.upcycle.savedmodels.rest.TfCode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The queues and batch threads of TF Serving's {@code SharedBatchScheduler}: one queue per
 * {@link BatchKey}, each a row of batches whose last one is open. A request joins the open batch
 * when its rows fit (at most the queue's row limit), else the open batch is closed and a new one
 * opened — unless the queue already holds {@code max_enqueued_batches} batches, when the request is
 * refused at once (with splitting it is split instead, and refused when the queue's free rows cannot
 * take it). A batch thread takes a closed batch, or the open one once it is full, has waited
 * {@code batch_timeout_micros} since its first request came, or the scheduler is closing; queues
 * are served in turn. A taken batch leaves the queue.
 */
final class BatchScheduler implements AutoCloseable {

  /**
   * The code of a request refused for a full queue. TF Serving's scheduler answers UNAVAILABLE
   * (HTTP 503) with the same message; issue 11 asks for RESOURCE_EXHAUSTED (HTTP 429, "retry
   * later"), which TF Serving gives a request that waited past its deadline in the queue.
   */
  static final TfCode QUEUE_FULL = TfCode.RESOURCE_EXHAUSTED;

  /** Runs one batch; must complete every task of it. */
  interface Processor {
    void process(BatchKey key, long limit, List<BatchTask> tasks);
  }

  /** The batches of one key. */
  private static final class Queue {
    final long limit;
    /** The last one is open; never empty. */
    final ArrayDeque<List<BatchTask>> batches = new ArrayDeque<>();
    long openRows;
    long openSince;

    Queue(long limit) {
      this.limit = limit;
      batches.add(new ArrayList<>());
    }

    List<BatchTask> open() {
      return batches.getLast();
    }

    boolean isEmpty() {
      return batches.size() == 1 && open().isEmpty();
    }
  }

  /** A batch taken by a thread. */
  private record Taken(BatchKey key, long limit, List<BatchTask> tasks) {}

  private final BatchingParameters params;
  private final Processor processor;
  private final long timeoutNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** In the order they are served next. */
  private final LinkedHashMap<BatchKey, Queue> queues = new LinkedHashMap<>();
  private final List<Thread> threads = new ArrayList<>();
  private long waiting;
  private boolean closed;

  BatchScheduler(BatchingParameters params, Processor processor) {
    this.params = checkNotNull(params, "params");
    this.processor = checkNotNull(processor, "processor");
    this.timeoutNanos = TimeUnit.MICROSECONDS.toNanos(params.batchTimeoutMicros());
    for (int i = 0; i < params.numBatchThreads(); i++) {
      Thread t = new Thread(this::serve, params.threadPoolName() + "_" + i);
      t.setDaemon(true);
      threads.add(t);
    }
    threads.forEach(Thread::start);
  }

  /**
   * Adds {@code request} ({@code rows} rows) to the open batch of {@code key}'s queue, whose batches
   * hold at most {@code limit} rows. With {@code enable_large_batch_splitting} a request that does
   * not fit is split (TF Serving's {@code SplitInputTask}): its first rows fill the open batch, the
   * rest go to new batches of at most {@code limit} rows. Returns the tasks to wait for, in row order.
   *
   * @throws RestError {@link #QUEUE_FULL} when the queue is full, UNAVAILABLE once closing
   */
  List<BatchTask> schedule(BatchKey key, long limit, PredictRequest request, long rows) {
    checkArgument(rows >= 1 && (rows <= limit || params.enableLargeBatchSplitting()),
        "a request of %s rows in batches of at most %s", rows, limit);
    lock.lock();
    try {
      if (closed) {
        throw new RestError(TfCode.UNAVAILABLE, "the batching scheduler is shutting down");
      }
      Queue q = queues.get(key);
      if (q == null) {
        q = new Queue(limit);
      }
      List<Long> sizes = pieces(q, rows); // may refuse: then a new queue is not kept
      queues.putIfAbsent(key, q);
      List<BatchTask> tasks = new ArrayList<>(sizes.size());
      long start = 0;
      for (long size : sizes) {
        if (q.openRows + size > q.limit) {
          q.batches.addLast(new ArrayList<>());
          q.openRows = 0;
        }
        if (q.open().isEmpty()) {
          q.openSince = System.nanoTime();
        }
        BatchTask task = new BatchTask(sizes.size() == 1 ? request : rowsOf(request, start, size), size);
        q.open().add(task);
        q.openRows += size;
        tasks.add(task);
        start += size;
      }
      waiting += tasks.size();
      changed.signalAll();
      return tasks;
    } finally {
      lock.unlock();
    }
  }

  /** The sizes {@code rows} rows are queued in, or the queue-full error; under the lock. */
  private List<Long> pieces(Queue q, long rows) {
    long room = q.limit - q.openRows;
    if (rows <= room) {
      return List.of(rows);
    }
    if (!params.enableLargeBatchSplitting()) {
      if (q.batches.size() >= params.maxEnqueuedBatches()) {
        throw new RestError(QUEUE_FULL, "The batch scheduling queue to which this task was submitted is full;"
            + " currently " + q.batches.size() + " batches enqueued and max_enqueued_batches is "
            + params.maxEnqueuedBatches());
      }
      return List.of(rows);
    }
    long capacity = (params.maxEnqueuedBatches() - q.batches.size()) * q.limit + room;
    if (rows > capacity) {
      throw new RestError(QUEUE_FULL, "The batch scheduling queue to which this task was submitted is full; task"
          + " size is " + rows + " but scheduling capacity is only " + capacity + " (num_enqueued_batches="
          + q.batches.size() + ", max_enqueued_batches=" + params.maxEnqueuedBatches() + ", open_batch_size="
          + q.openRows + ", max_execution_batch_size=" + q.limit + ")");
    }
    List<Long> sizes = new ArrayList<>();
    long left = rows;
    if (room > 0) {
      sizes.add(room);
      left -= room;
    }
    for (; left > 0; left -= Math.min(left, q.limit)) {
      sizes.add(Math.min(left, q.limit));
    }
    return sizes;
  }

  /** Rows {@code [start, start + count)} of every input of {@code request}. */
  private static PredictRequest rowsOf(PredictRequest request, long start, long count) {
    SortedMap<String, HostTensor> inputs = new TreeMap<>();
    request.inputs().forEach((name, t) -> inputs.put(name, HostTensors.slice(t, start, count)));
    return new PredictRequest(request.signatureName(), request.format(), inputs);
  }

  /** Requests in the queues, not yet taken by a batch thread. */
  long waiting() {
    lock.lock();
    try {
      return waiting;
    } finally {
      lock.unlock();
    }
  }

  /** A batch thread: takes batches until closed and every queue is empty. */
  private void serve() {
    while (true) {
      Taken batch;
      lock.lock();
      try {
        while ((batch = take()) == null) {
          if (closed && queues.isEmpty()) {
            return;
          }
          long deadline = nextDeadline();
          if (deadline == Long.MAX_VALUE) {
            changed.await();
          } else {
            changed.awaitNanos(deadline - System.nanoTime());
          }
        }
        waiting -= batch.tasks().size();
        if (!queues.isEmpty()) {
          changed.signalAll(); // more may be ready for another thread
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        lock.unlock();
      }
      run(batch);
    }
  }

  private void run(Taken batch) {
    try {
      processor.process(batch.key(), batch.limit(), batch.tasks());
    } catch (Throwable e) { // the thread keeps serving; every request of the batch gets the error
      for (BatchTask t : batch.tasks()) {
        t.fail(e);
      }
    } finally {
      IllegalStateException unanswered = new IllegalStateException("the batch ended without an answer");
      for (BatchTask t : batch.tasks()) {
        if (!t.isDone()) {
          t.fail(unanswered);
        }
      }
    }
  }

  /** The next batch ready to run, taken out of its queue, or null; under the lock. */
  private Taken take() {
    long now = System.nanoTime();
    Iterator<Map.Entry<BatchKey, Queue>> it = queues.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<BatchKey, Queue> e = it.next();
      Queue q = e.getValue();
      if (q.isEmpty()) { // not expected: queues leave the map when their last batch is taken
        it.remove();
        continue;
      }
      List<BatchTask> tasks = null;
      if (q.batches.size() > 1) {
        tasks = q.batches.removeFirst();
      } else if (!q.open().isEmpty() && (closed || q.openRows >= q.limit || now - q.openSince >= timeoutNanos)) {
        tasks = q.batches.removeFirst();
        q.batches.addLast(new ArrayList<>());
        q.openRows = 0;
      }
      if (tasks != null) {
        it.remove();
        if (!q.isEmpty()) {
          queues.put(e.getKey(), q); // to the back: queues take turns
        }
        return new Taken(e.getKey(), q.limit, tasks);
      }
    }
    return null;
  }

  /** When the earliest open batch times out ({@link Long#MAX_VALUE} for none); under the lock. */
  private long nextDeadline() {
    long next = Long.MAX_VALUE;
    for (Queue q : queues.values()) {
      if (!q.open().isEmpty()) {
        next = Math.min(next, q.openSince + timeoutNanos);
      }
    }
    return next;
  }

  /**
   * Stops taking requests, runs every queued one (open batches run without waiting for their
   * timeout) and waits for the batch threads to finish.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    for (Thread t : threads) {
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
