/**
 * Export for TF Serving (DESIGN.md §7): a SavedModel at {@code <base>/<version>/} whose graph is
 * built in Java, whose {@code variables/} bundle is streamed tensor by tensor from a checkpoint
 * with canonical names, with {@code serving_default} and {@code score} signatures and a provenance
 * JSON in {@code assets.extra/}; and TF Serving's REST predict JSON ({@code instances} / {@code inputs})
 * run in-process on a loaded SavedModel (package {@code rest}); {@link dev.upcycle.savedmodels.SavedModelInspection}
 * describes a SavedModel (versions, tags, signatures) for {@code inspect}.
 */
package dev.upcycle.savedmodels;
