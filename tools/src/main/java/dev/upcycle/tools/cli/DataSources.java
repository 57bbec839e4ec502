package dev.upcycle.tools.cli;

import dev.upcycle.provenance.Provenance;
import dev.upcycle.train.config.TrainConfig;
import dev.upcycle.train.input.TfRecordBatchSource;
import dev.upcycle.train.step.BatchSource;
import dev.upcycle.train.step.SyntheticBatchSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.tensorflow.types.TFloat32;

/** Batch sources for the command line: TFRecord files or folders, or synthetic data. */
final class DataSources {

  private DataSources() {}

  /** TFRecord batches for the config's model, or random ones when {@code paths} is empty and allowed. */
  static BatchSource open(TrainConfig config, List<Path> paths, boolean synthetic, boolean shuffle, long seed)
      throws IOException {
    if (paths.isEmpty()) {
      if (!synthetic) {
        throw new IllegalArgumentException("no data given: pass --data FILE|DIR (TFRecord of tf.train.Example) or"
            + " --synthetic for random batches");
      }
      return new SyntheticBatchSource(config.modelSpec(), config.batchShape(), TFloat32.class, seed);
    }
    List<Path> files = expand(paths);
    // ids and labels are checked against the model as batches are assembled, before any step
    TfRecordBatchSource.Options o = TfRecordBatchSource.Options.forModel(files, config.modelSpec().arch(),
        config.batchShape(), seed);
    return new TfRecordBatchSource(shuffle ? o : o.withShuffleBuffer(1));
  }

  /**
   * Files as given, folders (a {@code data tokenize} or {@code data images} output) expanded to
   * their regular files (sorted), without hidden files and their {@code provenance.json}.
   */
  static List<Path> expand(List<Path> paths) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.list(p)) {
          s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
              .filter(f -> !f.getFileName().toString().equals(Provenance.FILE)).sorted()
              .forEach(out::add);
        }
      } else if (Files.isRegularFile(p)) {
        out.add(p);
      } else {
        throw new IllegalArgumentException("data path " + p + " does not exist");
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no files found in " + paths);
    }
    return out;
  }
}
