package dev.upcycle.savedmodels.rest.batching;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.savedmodels.rest.batching.TextProto.Type;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TF Serving's batching settings, the {@code BatchingParameters} message of
 * {@code tensorflow_serving/servables/tensorflow/session_bundle_config.proto} that
 * {@code --batching_parameters_file} holds in protobuf text format:
 *
 * <pre>
 * max_batch_size { value: 32 }
 * batch_timeout_micros { value: 1000 }
 * num_batch_threads { value: 4 }
 * max_enqueued_batches { value: 100 }
 * </pre>
 *
 * A field left out takes the default TF Serving's scheduler gives it ({@code SharedBatchScheduler}'s
 * {@code Options} and {@code QueueOptions}), which are also the settings of {@code --enable_batching}
 * without a file.
 *
 * @param maxBatchSize the most rows (dimension 0) one request may have ({@code
 *     input_batch_size_limit}; default 1000), and without splitting the most a batch holds
 * @param batchTimeoutMicros how long the first request of an open batch waits for more before the
 *     batch runs anyway (default 0: a free batch thread takes whatever is queued)
 * @param maxEnqueuedBatches how many batches may wait, the open one included; a request that
 *     would need one more is refused (default 10)
 * @param numBatchThreads how many batches run at the same time (default: the processors, TF's
 *     {@code port::MaxParallelism()})
 * @param threadPoolName the name of the batch threads
 * @param allowedBatchSizes if not empty, increasing sizes ending with {@code maxBatchSize} (with
 *     splitting: {@link #executionBatchSize()}): a batch
 *     is padded up to the next one (with copies of the first row of its last request), and the
 *     padding rows' outputs dropped
 * @param padVariableLengthInputs read for compatibility; requests of different inner shapes are
 *     never merged here, so there is nothing to pad (docs/serving.md, "Batching")
 * @param enableLargeBatchSplitting whether a request of more rows than fit in the open batch is
 *     split: its first rows fill the open batch, the rest go to new batches of at most
 *     {@link #executionBatchSize()} rows, and its answer is put back together (default false: a
 *     request of more than {@code maxBatchSize} rows is refused, one that does not fit in the open
 *     batch opens a new one)
 * @param maxExecutionBatchSize with splitting, the most rows a batch runs with (0: not given, then
 *     {@code maxBatchSize})
 */
public record BatchingParameters(long maxBatchSize, long batchTimeoutMicros, long maxEnqueuedBatches,
    int numBatchThreads, String threadPoolName, List<Long> allowedBatchSizes, boolean padVariableLengthInputs,
    boolean enableLargeBatchSplitting, long maxExecutionBatchSize) {

  /** {@code QueueOptions::input_batch_size_limit}'s default. */
  public static final long DEFAULT_MAX_BATCH_SIZE = 1000;
  /** {@code QueueOptions::batch_timeout_micros}'s default. */
  public static final long DEFAULT_BATCH_TIMEOUT_MICROS = 0;
  /** {@code QueueOptions::max_enqueued_batches}'s default. */
  public static final long DEFAULT_MAX_ENQUEUED_BATCHES = 10;
  /** The thread pool name TF Serving's model server gives batching without a file. */
  public static final String SERVER_THREAD_POOL_NAME = "model_server_batch_threads";
  /** {@code SharedBatchScheduler::Options::thread_pool_name}'s default, for a file without one. */
  public static final String DEFAULT_THREAD_POOL_NAME = "batch_threads";
  /** The message's full name, for errors. */
  static final String MESSAGE = "tensorflow.serving.BatchingParameters";

  private static final Map<String, Type> FIELDS = fields();

  private static Map<String, Type> fields() {
    Map<String, Type> f = new LinkedHashMap<>();
    f.put("max_batch_size", Type.INT64_VALUE);
    f.put("batch_timeout_micros", Type.INT64_VALUE);
    f.put("max_enqueued_batches", Type.INT64_VALUE);
    f.put("num_batch_threads", Type.INT64_VALUE);
    f.put("thread_pool_name", Type.STRING_VALUE);
    f.put("enable_large_batch_splitting", Type.BOOL_VALUE);
    f.put("max_execution_batch_size", Type.INT64_VALUE);
    f.put("allowed_batch_sizes", Type.REPEATED_INT64);
    f.put("pad_variable_length_inputs", Type.BOOL);
    return Map.copyOf(f);
  }

  /**
   * Checks the settings as TF Serving does when it creates the scheduler and its queues.
   *
   * @throws IllegalArgumentException with TF Serving's message for a setting it refuses
   */
  public BatchingParameters {
    checkArgument(maxBatchSize > 0, "max_batch_size must be positive; was %s", maxBatchSize);
    checkArgument(maxBatchSize <= Integer.MAX_VALUE, "max_batch_size %s is more than %s", maxBatchSize,
        Integer.MAX_VALUE);
    checkArgument(batchTimeoutMicros >= 0, "batch_timeout_micros must be non-negative; was %s", batchTimeoutMicros);
    checkArgument(maxEnqueuedBatches >= 0, "max_enqueued_batches must be non-negative; was %s", maxEnqueuedBatches);
    checkArgument(numBatchThreads >= 1, "num_batch_threads must be positive; was %s", numBatchThreads);
    checkNotNull(threadPoolName, "threadPoolName");
    allowedBatchSizes = List.copyOf(checkNotNull(allowedBatchSizes, "allowedBatchSizes"));
    for (int i = 1; i < allowedBatchSizes.size(); i++) {
      checkArgument(allowedBatchSizes.get(i) > allowedBatchSizes.get(i - 1),
          "allowed_batch_sizes entries must be monotonically increasing; %s",
          allowedBatchSizes);
    }
    checkArgument(maxExecutionBatchSize >= 0, "max_execution_batch_size must be non-negative; was %s",
        maxExecutionBatchSize);
    long execution = executionBatchSize(enableLargeBatchSplitting, maxExecutionBatchSize, maxBatchSize);
    if (enableLargeBatchSplitting) {
      checkArgument(execution <= maxBatchSize, "When enable_large_batch_splitting is true, input_batch_size_limit"
          + " must be greater than or equal to max_execution_batch_size (max_batch_size %s, max_execution_batch_size"
          + " %s)", maxBatchSize, execution);
      checkArgument(maxEnqueuedBatches > 0, "max_enqueued_batches must be positive; was %s", maxEnqueuedBatches);
    }
    if (!allowedBatchSizes.isEmpty()) {
      long last = allowedBatchSizes.get(allowedBatchSizes.size() - 1);
      checkArgument(allowedBatchSizes.get(0) > 0, "allowed_batch_sizes entries must be positive; %s",
          allowedBatchSizes);
      if (enableLargeBatchSplitting) {
        checkArgument(last == execution, "Last entry in allowed_batch_sizes must be equal to max_execution_batch_size;"
            + " last entry was %s; expected %s", last, execution);
      } else {
        checkArgument(last == maxBatchSize,
            "Last entry in allowed_batch_sizes must match max_batch_size; last entry was %s; expected %s", last,
            maxBatchSize);
      }
    }
  }

  /**
   * The most rows one batch runs with: {@code max_execution_batch_size} when splitting and given,
   * else {@code max_batch_size} (TF's {@code GetMaxExecutionBatchSize}).
   */
  public long executionBatchSize() {
    return executionBatchSize(enableLargeBatchSplitting, maxExecutionBatchSize, maxBatchSize);
  }

  private static long executionBatchSize(boolean splitting, long maxExecution, long maxBatch) {
    return splitting && maxExecution > 0 ? maxExecution : maxBatch;
  }

  /** The settings of TF Serving's {@code --enable_batching} without {@code --batching_parameters_file}. */
  public static BatchingParameters defaults() {
    return new BatchingParameters(DEFAULT_MAX_BATCH_SIZE, DEFAULT_BATCH_TIMEOUT_MICROS, DEFAULT_MAX_ENQUEUED_BATCHES,
        Runtime.getRuntime().availableProcessors(), SERVER_THREAD_POOL_NAME, List.of(), false, false, 0);
  }

  /**
   * Reads a {@code --batching_parameters_file}.
   *
   * @throws IOException when it cannot be read
   * @throws IllegalArgumentException naming the file (and line and column) when it is not valid
   *     UTF-8, not a {@code BatchingParameters} text proto, or holds settings TF Serving refuses
   */
  public static BatchingParameters read(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(file + ": not UTF-8 text (a " + MESSAGE + " in protobuf text format was"
          + " expected)", e);
    }
    return parse(text, file.toString());
  }

  /**
   * Parses the text format of a {@code BatchingParameters} message ({@code source} names it in errors).
   *
   * @throws IllegalArgumentException naming {@code source} for text that is not such a message or
   *     settings TF Serving refuses
   */
  public static BatchingParameters parse(String text, String source) {
    Map<String, Object> v = TextProto.parse(text, source, MESSAGE, FIELDS);
    long threads = (Long) v.getOrDefault("num_batch_threads", (long) Runtime.getRuntime().availableProcessors());
    try {
      checkArgument(threads >= 1, "num_batch_threads must be positive; was %s", threads);
      checkArgument(threads <= Integer.MAX_VALUE, "num_batch_threads %s is more than %s", threads,
          Integer.MAX_VALUE);
      @SuppressWarnings("unchecked")
      List<Long> allowed = (List<Long>) v.getOrDefault("allowed_batch_sizes", List.of());
      return new BatchingParameters(
          (Long) v.getOrDefault("max_batch_size", DEFAULT_MAX_BATCH_SIZE),
          (Long) v.getOrDefault("batch_timeout_micros", DEFAULT_BATCH_TIMEOUT_MICROS),
          (Long) v.getOrDefault("max_enqueued_batches", DEFAULT_MAX_ENQUEUED_BATCHES),
          (int) threads,
          (String) v.getOrDefault("thread_pool_name", DEFAULT_THREAD_POOL_NAME),
          allowed,
          (Boolean) v.getOrDefault("pad_variable_length_inputs", false),
          (Boolean) v.getOrDefault("enable_large_batch_splitting", false),
          (Long) v.getOrDefault("max_execution_batch_size", 0L));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /**
   * The size a batch of {@code rows} rows runs at: the smallest allowed size that holds them, or
   * {@code rows} when no sizes are set (TF Serving's {@code RoundToLowestAllowedBatchSize}).
   */
  long paddedSize(long rows) {
    for (long allowed : allowedBatchSizes) {
      if (allowed >= rows) {
        return allowed;
      }
    }
    return rows;
  }
}
