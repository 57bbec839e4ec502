package dev.upcycle.train.experiment;

/** What a branch of an experiment is. */
public enum BranchKind {
  /** The dense model trained from scratch for the dense budget S (its curve is reported). */
  DENSE("dense"),
  /** The dense model trained on from its S checkpoint for each extra budget. */
  CONTINUATION("dense continuation"),
  /** The S checkpoint upcycled to an MoE, trained for the same extra compute. */
  UPCYCLED("upcycled"),
  /** An MoE of the same shape from scratch, for S plus each extra budget's compute. */
  SCRATCH("MoE from scratch");

  private final String label;

  BranchKind(String label) {
    this.label = label;
  }

  /** The kind in words, for tables and plot legends. */
  public String label() {
    return label;
  }
}
