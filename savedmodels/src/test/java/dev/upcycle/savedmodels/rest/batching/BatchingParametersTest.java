package dev.upcycle.savedmodels.rest.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --batching_parameters_file} as TF Serving reads it (protobuf text format of
 * {@code BatchingParameters}), its defaults, and bad files refused naming file, place and field.
 */
class BatchingParametersTest {

  @TempDir Path tmp;

  private static IllegalArgumentException refused(String text) {
    return assertThrows(IllegalArgumentException.class, () -> BatchingParameters.parse(text, "batching.txt"));
  }

  @Test
  void theBatchingGuidesFileIsRead() throws Exception {
    Path file = Files.writeString(tmp.resolve("batching.config"), """
        max_batch_size { value: 32 }
        batch_timeout_micros { value: 1000 }
        num_batch_threads { value: 4 }
        max_enqueued_batches { value: 100 }
        """);
    BatchingParameters p = BatchingParameters.read(file);
    assertEquals(32, p.maxBatchSize());
    assertEquals(1000, p.batchTimeoutMicros());
    assertEquals(4, p.numBatchThreads());
    assertEquals(100, p.maxEnqueuedBatches());
    assertEquals(BatchingParameters.DEFAULT_THREAD_POOL_NAME, p.threadPoolName());
    assertEquals(List.of(), p.allowedBatchSizes());
    assertEquals(false, p.padVariableLengthInputs());
  }

  @Test
  void everyFieldAndEverySpellingOfTheTextFormat() {
    BatchingParameters p = BatchingParameters.parse("""
        # comments and separators
        max_batch_size: { value: 0x10 },
        batch_timeout_micros < value: 010 >;
        max_enqueued_batches {}
        num_batch_threads { value: 2 }
        thread_pool_name { value: 'pool \\"a\\"' }
        allowed_batch_sizes: 2
        allowed_batch_sizes: [4, 8, 16]
        pad_variable_length_inputs: true
        enable_large_batch_splitting { value: false }
        max_execution_batch_size { value: 4 }
        """, "batching.txt");
    assertEquals(16, p.maxBatchSize());
    assertEquals(8, p.batchTimeoutMicros(), "010 is octal");
    assertEquals(0, p.maxEnqueuedBatches(), "an empty wrapper holds 0");
    assertEquals(2, p.numBatchThreads());
    assertEquals("pool \"a\"", p.threadPoolName());
    assertEquals(List.of(2L, 4L, 8L, 16L), p.allowedBatchSizes());
    assertTrue(p.padVariableLengthInputs());
    assertEquals(4, p.maxExecutionBatchSize());
    assertEquals(16, p.executionBatchSize(), "max_execution_batch_size counts only with splitting");
    BatchingParameters split = BatchingParameters.parse("max_batch_size { value: 64 }"
        + " enable_large_batch_splitting { value: true } max_execution_batch_size { value: 8 }", "split.txt");
    assertTrue(split.enableLargeBatchSplitting());
    assertEquals(8, split.executionBatchSize());
    assertEquals(64, BatchingParameters.parse("max_batch_size { value: 64 } enable_large_batch_splitting"
        + " { value: true }", "s").executionBatchSize(), "max_execution_batch_size defaults to max_batch_size");
    assertEquals(4, p.paddedSize(3));
    assertEquals(16, p.paddedSize(9));
    assertEquals(2, p.paddedSize(1));
  }

  @Test
  void defaultsAreTfServings() {
    BatchingParameters d = BatchingParameters.defaults();
    assertEquals(1000, d.maxBatchSize());
    assertEquals(0, d.batchTimeoutMicros());
    assertEquals(10, d.maxEnqueuedBatches());
    assertEquals(Runtime.getRuntime().availableProcessors(), d.numBatchThreads());
    assertEquals("model_server_batch_threads", d.threadPoolName());
    BatchingParameters empty = BatchingParameters.parse("  # nothing set\n", "empty.txt");
    assertEquals(d.maxBatchSize(), empty.maxBatchSize());
    assertEquals(d.maxEnqueuedBatches(), empty.maxEnqueuedBatches());
    assertEquals(d.numBatchThreads(), empty.numBatchThreads());
    assertEquals(5, BatchingParameters.parse("", "e").paddedSize(5), "no allowed sizes: no padding");
  }

  @Test
  void badFilesAreRefusedNamingFileLineAndField() throws Exception {
    IllegalArgumentException unknown = refused("max_batch_size { value: 8 }\n  max_batch { value: 8 }\n");
    assertTrue(unknown.getMessage().startsWith("batching.txt:2:3: unknown field \"max_batch\" in"
        + " tensorflow.serving.BatchingParameters (its fields: allowed_batch_sizes, "), unknown.getMessage());
    assertEquals("batching.txt:1:17: field \"max_batch_size\" is a google.protobuf.Int64Value: expected"
        + " \"{ value: … }\", found \"8\"", refused("max_batch_size: 8").getMessage());
    assertEquals("batching.txt:2:1: non-repeated field \"num_batch_threads\" is specified multiple times",
        refused("num_batch_threads { value: 1 }\nnum_batch_threads { value: 2 }").getMessage());
    assertEquals("batching.txt:1:31: expected an int64, found \"1.5\"",
        refused("batch_timeout_micros { value: 1.5 }").getMessage());
    assertEquals("batching.txt:1:31: expected an int64, found \"99999999999999999999\"",
        refused("batch_timeout_micros { value: 99999999999999999999 }").getMessage());
    assertTrue(refused("max_batch_size { size: 8 }").getMessage().contains(
        "unknown field \"size\" in google.protobuf.Int64Value (field \"max_batch_size\"; its one field: value)"));
    assertTrue(refused("max_batch_size { value: 8").getMessage().contains("not closed"));
    assertTrue(refused("pad_variable_length_inputs: yes").getMessage().endsWith(
        "expected a bool (true or false), found \"yes\""));
    assertEquals("batching.txt: max_batch_size must be positive; was 0", refused("max_batch_size { value: 0 }")
        .getMessage());
    assertEquals("batching.txt: num_batch_threads must be positive; was 0", refused("num_batch_threads { value: 0 }")
        .getMessage());
    assertEquals("batching.txt: batch_timeout_micros must be non-negative; was -1",
        refused("batch_timeout_micros { value: -1 }").getMessage());
    assertEquals("batching.txt: Last entry in allowed_batch_sizes must match max_batch_size; last entry was 16;"
        + " expected 32", refused("max_batch_size { value: 32 } allowed_batch_sizes: [8, 16]").getMessage());
    assertTrue(refused("max_batch_size { value: 8 } allowed_batch_sizes: [4, 2, 8]").getMessage()
        .contains("monotonically increasing"));
    assertTrue(refused("max_batch_size { value: 8 } enable_large_batch_splitting { value: true }"
        + " max_execution_batch_size { value: 16 }").getMessage().contains("When enable_large_batch_splitting is true,"
        + " input_batch_size_limit must be greater than or equal to max_execution_batch_size"));
    assertEquals("batching.txt: Last entry in allowed_batch_sizes must be equal to max_execution_batch_size; last"
        + " entry was 8; expected 4", refused("max_batch_size { value: 8 } enable_large_batch_splitting { value: true }"
        + " max_execution_batch_size { value: 4 } allowed_batch_sizes: [2, 8]").getMessage());
    assertEquals("batching.txt: max_enqueued_batches must be positive; was 0", refused("max_enqueued_batches {}"
        + " enable_large_batch_splitting { value: true }").getMessage());
    Path binary = Files.write(tmp.resolve("bad.bin"), new byte[] {(byte) 0xff, (byte) 0xfe, 0});
    IllegalArgumentException notText = assertThrows(IllegalArgumentException.class,
        () -> BatchingParameters.read(binary));
    assertTrue(notText.getMessage().startsWith(binary + ": not UTF-8 text"), notText.getMessage());
  }
}
