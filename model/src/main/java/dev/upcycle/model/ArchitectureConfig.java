package dev.upcycle.model;

/** The dense shape of a model: one of the three architectures this project builds. */
public sealed interface ArchitectureConfig permits T5Config, VitConfig, LmConfig {

  /** Width of the residual stream. */
  int dModel();

  /** Hidden width of the (dense) MLP; each expert has the same width. */
  int dFf();

  /** Dropout rate used while training (0 for pretraining, as T5 does). */
  double dropout();
}
