package dev.upcycle.train.ckpt;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.CheckpointFormatException;
import dev.upcycle.ckpt.CheckpointFormats;
import dev.upcycle.ckpt.RenamingReader;
import dev.upcycle.ckpt.TensorInfo;
import dev.upcycle.ckpt.tf.TfBundleWriter;
import dev.upcycle.model.names.CanonicalNames;
import dev.upcycle.provenance.Provenance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checkpoints of one run under {@code <run>/checkpoints}: one folder per step,
 * {@code step_000100/} holding the TF tensor bundle {@code model.ckpt-100.*}, its {@code checkpoint}
 * state file and {@code config.json} (the resolved run config). Each step folder is published with
 * {@link AtomicFolder} and old ones are removed with {@link AtomicFolder#delete}, so every {@code
 * step_*} folder present is complete and loadable; the hidden stages a killed job left are
 * removed when a manager is opened.
 */
public final class CheckpointManager {

  public static final String CONFIG_FILE = "config.json";
  public static final String BUNDLE_BASENAME = "model.ckpt";
  private static final Pattern STEP_DIR = Pattern.compile("step_(\\d{6,})");

  /** Tensors are moved between the session and the files in groups of at most this many bytes. */
  static final long GROUP_BYTES = 64L << 20;

  private final Path dir;
  private final int keep;

  /**
   * @param dir the checkpoints folder (created if missing)
   * @param keep how many of the newest checkpoints to keep (>= 1)
   */
  public CheckpointManager(Path dir, int keep) throws IOException {
    checkNotNull(dir, "checkpoint folder");
    checkArgument(keep >= 1, "keep must be >= 1, got %s", keep);
    this.dir = dir.toAbsolutePath().normalize();
    this.keep = keep;
    Files.createDirectories(this.dir);
    AtomicFolder.removeStaleIn(this.dir);
  }

  public Path dir() {
    return dir;
  }

  /** The folder name of a step: {@code step_000100}. */
  public static String folderName(long step) {
    return String.format("step_%06d", step);
  }

  /** The bundle prefix inside a step folder: {@code step_000100/model.ckpt-100}. */
  public static Path prefix(Path stepFolder, long step) {
    return stepFolder.resolve(BUNDLE_BASENAME + "-" + step);
  }

  /** Complete checkpoint folders, oldest step first (stages, being written or deleted, are not listed). */
  public List<Path> list() throws IOException {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (Files.isDirectory(p) && !AtomicFolder.isStage(p) && STEP_DIR.matcher(p.getFileName().toString()).matches()) {
          out.add(p);
        }
      }
    }
    out.sort(Comparator.comparingLong(CheckpointManager::stepOf));
    return out;
  }

  /** The newest complete checkpoint folder. */
  public Optional<Path> latest() throws IOException {
    List<Path> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** The step a {@code step_NNNNNN} folder holds. */
  public static long stepOf(Path folder) {
    Matcher m = STEP_DIR.matcher(folder.getFileName().toString());
    checkArgument(m.matches(), "%s is not a step_NNNNNN checkpoint folder", folder);
    return Long.parseLong(m.group(1));
  }

  /**
   * Writes every tensor of {@code state}, {@code configJson} and the run's provenance record (with
   * {@code options.step} and the files written) as checkpoint {@code step}, then deletes all but
   * the newest {@code keep}. An existing folder for the same step is replaced.
   *
   * @return the published folder
   */
  public Path save(long step, StateTensors state, String configJson, Provenance run, WriteProgress progress)
      throws IOException {
    checkNotNull(run, "provenance");
    checkArgument(step >= 0, "step must be >= 0, got %s", step);
    Path target = dir.resolve(folderName(step));
    List<TensorInfo> infos = state.tensors();
    try (AtomicFolder out = AtomicFolder.stage(target, true)) {
      Path staging = out.path();
      try (TfBundleWriter w = TfBundleWriter.create(prefix(staging, step))) {
        int i = 0;
        for (List<TensorInfo> group : StateTensors.groups(infos, GROUP_BYTES)) {
          for (var raw : state.read(group.stream().map(TensorInfo::name).toList())) {
            w.write(raw);
            progress.tensorWritten(step, ++i, infos.size());
          }
        }
        w.commit();
      }
      Files.writeString(staging.resolve(CONFIG_FILE), configJson, StandardCharsets.UTF_8);
      run.withOption("step", com.fasterxml.jackson.databind.node.LongNode.valueOf(step)).withOutputsOf(staging)
          .writeTo(staging);
      out.commit();
    }
    List<Path> all = list();
    for (int k = 0; k < all.size() - keep; k++) {
      AtomicFolder.delete(all.get(k));
    }
    return target;
  }

  /**
   * Restores {@code state} from a checkpoint in any format {@link CheckpointFormats#open} reads
   * (a step folder, a {@code convert} output in TF-bundle or T5X form, a bundle prefix). Every required tensor (model weight) must be present with the
   * graph's shape; optional ones (slots, step) that are missing keep their fresh values; optimizer
   * state the run does not have is ignored; any other extra tensor is an error.
   */
  public static RestoreReport restore(Path checkpoint, StateTensors state) throws IOException {
    checkNotNull(checkpoint, "checkpoint");
    List<String> restored = new ArrayList<>();
    List<String> fresh = new ArrayList<>();
    List<String> ignored = new ArrayList<>();
    Path prefix = checkpoint;
    try (RenamingReader reader = CheckpointFormats.open(checkpoint, Optional.empty())) {
      prefix = CheckpointFormats.detected(reader).indexFile(); // names the checkpoint in errors
      Map<String, TensorInfo> stored = new HashMap<>();
      reader.tensors().forEach(t -> stored.put(t.name(), t));
      Map<String, TensorInfo> wanted = new HashMap<>();
      state.tensors().forEach(t -> wanted.put(t.name(), t));
      List<String> missing = new ArrayList<>();
      List<String> unknown = new ArrayList<>();
      for (TensorInfo want : state.tensors()) {
        if (!stored.containsKey(want.name())) {
          (state.required(want.name()) ? missing : fresh).add(want.name());
        }
      }
      for (String name : stored.keySet()) {
        if (!wanted.containsKey(name)) {
          (CanonicalNames.isState(name) ? ignored : unknown).add(name);
        }
      }
      if (!missing.isEmpty() || !unknown.isEmpty()) {
        missing.sort(null);
        unknown.sort(null);
        throw new CheckpointFormatException(prefix, null, String.format(
            "does not match the model: %d variable(s) missing%s; %d tensor(s) the model does not have%s",
            missing.size(), preview(missing), unknown.size(), preview(unknown)));
      }
      List<TensorInfo> present = new ArrayList<>();
      for (TensorInfo want : state.tensors()) {
        TensorInfo have = stored.get(want.name());
        if (have == null) {
          continue;
        }
        if (!Arrays.equals(have.shape(), want.shape())) {
          throw new CheckpointFormatException(prefix, want.name(), String.format("has shape %s; the model expects %s",
              Arrays.toString(have.shape()), Arrays.toString(want.shape())));
        }
        present.add(want);
      }
      for (List<TensorInfo> group : StateTensors.groups(present, GROUP_BYTES)) {
        List<dev.upcycle.ckpt.RawTensor> values = new ArrayList<>();
        for (TensorInfo t : group) {
          values.add(reader.read(t.name()));
          restored.add(t.name());
        }
        state.assign(values);
      }
    }
    return new RestoreReport(prefix, restored, fresh, ignored);
  }

  /** Reads {@code config.json} of a step folder. */
  public static String readConfig(Path stepFolder) throws IOException {
    return Files.readString(stepFolder.resolve(CONFIG_FILE), StandardCharsets.UTF_8);
  }

  /** True for names of optimizer state (never required when initialising from a checkpoint). */
  public static boolean isOptimizerState(String name) {
    return CanonicalNames.isSlot(name) || name.equals(CanonicalNames.STEP);
  }

  private static String preview(List<String> names) {
    if (names.isEmpty()) {
      return "";
    }
    return " (" + String.join(", ", names.subList(0, Math.min(8, names.size()))) + (names.size() > 8 ? ", ..." : "")
        + ")";
  }
}
