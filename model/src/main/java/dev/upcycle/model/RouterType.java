package dev.upcycle.model;

/** How tokens and experts are matched in an MoE layer (DESIGN.md §5). */
public enum RouterType {
  /** Each expert takes its top tokens; not allowed in causal stacks. */
  EXPERT_CHOICE,
  /** Each token takes its top-K experts, subject to expert capacity. */
  TOP_K
}
