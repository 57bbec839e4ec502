package dev.upcycle.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.upcycle.model.testing.Tensors;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.data.Compression;
import dev.upcycle.train.data.ExampleCodec;
import dev.upcycle.train.data.TfRecordWriter;
import dev.upcycle.train.step.Batch;
import dev.upcycle.train.step.BatchSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's TFRecord batches are checked against the model before any step: a label at or
 * above num_classes or a token id at or above the vocabulary (which XLA's gather would clamp) is an
 * error naming the file, the record and the value.
 */
class DataSourcesTest {

  @TempDir Path tmp;

  private static TrainConfig config(String preset) {
    return TrainConfig.defaults().withOverrides(Map.of("model.preset", preset, "batch_size", "2"));
  }

  @Test
  void labelsAtOrAboveNumClassesAreRefusedNamingFileRecordAndValue() throws Exception {
    Path file = tmp.resolve("images.tfrecord");
    try (TfRecordWriter w = TfRecordWriter.create(file, Compression.NONE)) {
      for (long label : new long[] {9, 10}) { // vit-mnist: 10 classes
        w.write(ExampleCodec.image(new ExampleCodec.ImageExample(new byte[28 * 28], label, 28, 28, 1)));
      }
    }
    try (BatchSource source = DataSources.open(config("vit-mnist"), List.of(file), false, false, 0)) {
      Exception e = assertThrows(IllegalArgumentException.class, () -> source.nextBatch(0).close());
      assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("record 1")
          && e.getMessage().contains("label 10") && e.getMessage().contains("10 classes"), e.getMessage());
    }
  }

  @Test
  void negativeLabelsAreRefused() throws Exception {
    Path file = tmp.resolve("images.tfrecord");
    try (TfRecordWriter w = TfRecordWriter.create(file, Compression.NONE)) {
      for (long label : new long[] {-1, 3}) {
        w.write(ExampleCodec.image(new ExampleCodec.ImageExample(new byte[28 * 28], label, 28, 28, 1)));
      }
    }
    try (BatchSource source = DataSources.open(config("vit-mnist"), List.of(file), false, false, 0)) {
      Exception e = assertThrows(IllegalArgumentException.class, () -> source.nextBatch(0).close());
      assertTrue(e.getMessage().contains("record 0") && e.getMessage().contains("label -1"), e.getMessage());
    }
  }

  @Test
  void tokenIdsAtOrAboveTheVocabularyAreRefusedForLmAndT5() throws Exception {
    for (String preset : new String[] {"lm-tiny", "t5-tiny"}) { // vocabulary 1024
      Path file = tmp.resolve(preset + ".tfrecord");
      try (TfRecordWriter w = TfRecordWriter.create(file, Compression.NONE)) {
        w.write(ExampleCodec.tokens(new int[] {1, 2, 3}, new int[] {4, 5}));
        w.write(ExampleCodec.tokens(new int[] {1, 2, 3}, new int[] {7, 1024}));
      }
      try (BatchSource source = DataSources.open(config(preset), List.of(file), false, false, 0)) {
        Exception e = assertThrows(IllegalArgumentException.class, () -> source.nextBatch(0).close(), preset);
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("record 1")
            && e.getMessage().contains("token id 1024") && e.getMessage().contains("vocabulary of 1024"),
            preset + ": " + e.getMessage());
      }
    }
  }

  @Test
  void idsAndLabelsInsideTheModelAreRead() throws Exception {
    Path file = tmp.resolve("lm.tfrecord");
    try (TfRecordWriter w = TfRecordWriter.create(file, Compression.NONE)) {
      w.write(ExampleCodec.tokens(new int[0], new int[] {1023, 5}));
      w.write(ExampleCodec.tokens(new int[0], new int[] {0, 7}));
    }
    try (BatchSource source = DataSources.open(config("lm-tiny"), List.of(file), false, false, 0);
        Batch b = source.nextBatch(0)) {
      assertEquals(1023, Tensors.toInts(b.features().get(Batch.TARGETS))[0]);
    }
  }
}
