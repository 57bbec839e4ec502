package dev.upcycle.train.experiment;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What an experiment trains on and with: prepared TFRecord data, the dense model, the job settings
 * every branch shares, and the paper's recipe for this modality as MoE variants.
 */
public interface ExperimentTask {

  /** Short name ({@code vision}, {@code language}), also the results folder's name. */
  String name();

  /** The data, model and recipe in a line, for the summary. */
  String description();

  /** What the evaluation's accuracy is ({@code top-1 accuracy}, {@code token accuracy}). */
  String accuracyName();

  /** Training records. */
  List<Path> trainData();

  /** Held-out records (evaluated from their start, in order). */
  List<Path> evalData();

  /** Config keys of the dense model ({@code model.preset} or {@code model.t5…}). */
  Map<String, String> modelSettings();

  /**
   * Config keys every branch shares: batch, lengths, optimizer, schedule, XLA. Not the seed,
   * {@code train_steps}, {@code output_dir} or checkpointing, which the runner sets.
   */
  Map<String, String> jobSettings();

  /** The paper's recipe for this task; the first variant is also the from-scratch MoE's shape. */
  List<Variant> recipe();
}
