/**
 * The canonical variable names of DESIGN.md §3 in one place: {@link dev.upcycle.model.names.CanonicalNames}
 * holds the expert and router paths of an MoE layer and the optimizer-state names
 * ({@code state/step}, {@code state/param_states/<param>/<slot>}, slots {@code m}, {@code v},
 * {@code v_row}, {@code v_col}), used by the graphs, the upcycle plan, the optimizers, the exporter and
 * the name maps of the checkpoint formats.
 */
package dev.upcycle.model.names;
