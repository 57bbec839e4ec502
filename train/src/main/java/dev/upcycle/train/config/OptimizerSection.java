package dev.upcycle.train.config;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.train.optim.AdamW;
import dev.upcycle.train.optim.Adafactor;
import dev.upcycle.train.optim.Optimizer;

/**
 * The optimizer: {@code name} picks one; each has its own settings.
 *
 * @param name {@code adafactor} or {@code adamw}
 * @param adafactor Adafactor settings (T5X defaults)
 * @param adamw AdamW settings
 */
public record OptimizerSection(String name, Adafactor adafactor, AdamW adamw) {

  public OptimizerSection {
    checkNotNull(name, "optimizer.name");
    checkArgument(name.equals("adafactor") || name.equals("adamw"),
        "optimizer.name must be adafactor or adamw, got '%s'", name);
    checkNotNull(adafactor, "optimizer.adafactor");
    checkNotNull(adamw, "optimizer.adamw");
  }

  public static OptimizerSection defaults() {
    return new OptimizerSection("adafactor", Adafactor.defaults(), AdamW.defaults());
  }

  public Optimizer optimizer() {
    return name.equals("adafactor") ? adafactor : adamw;
  }
}
