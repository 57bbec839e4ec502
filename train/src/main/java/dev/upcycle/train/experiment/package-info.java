/**
 * Reproducing the paper's comparison at small scale: a dense model trained for a budget S, then,
 * per extra budget b (a fraction of S), a dense continuation, upcycled MoE variants and an MoE from
 * scratch at equal training compute (FLOPs from {@link dev.upcycle.model.arch.FlopCount}); every
 * branch a resumable training run in its own folder, evaluated at each budget; results as CSV, a
 * markdown summary (mean ± std over seeds) and PNG plots.
 */
package dev.upcycle.train.experiment;
