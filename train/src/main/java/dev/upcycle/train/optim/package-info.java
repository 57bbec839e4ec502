/**
 * Optimizers and learning-rate schedules written as plain graph ops on resource variables, so the
 * whole update sits inside the XLA-compiled train step: {@link dev.upcycle.train.optim.Adafactor}
 * (T5X defaults), {@link dev.upcycle.train.optim.AdamW}, global-norm clipping and
 * {@link dev.upcycle.train.optim.Schedule}. Optimizer state lives in a {@link
 * dev.upcycle.train.optim.StateStore} under the canonical names of DESIGN.md §3
 * ({@code state/param_states/<param>/{m,v,v_row,v_col}}, {@code state/step}).
 */
package dev.upcycle.train.optim;
