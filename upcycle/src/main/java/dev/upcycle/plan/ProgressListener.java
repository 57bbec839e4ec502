package dev.upcycle.plan;

import java.nio.file.Path;

/** Told what a {@link ConvertJob} is doing; every method has an empty default. */
public interface ProgressListener {

  /** Does nothing. */
  ProgressListener NONE = new ProgressListener() {};

  /** The plan was built and checked (before anything is written; a dry run stops after this). */
  default void planned(UpcyclePlan plan, PlanReport report) {}

  /** Target tensor {@code done} of {@code total} was written. */
  default void tensorWritten(int done, int total, String name, long bytes) {}

  /** The output appeared at {@code output}. */
  default void committed(Path output) {}
}
