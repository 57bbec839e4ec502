/**
 * The typed, versioned provenance record ({@link dev.upcycle.provenance.Provenance}) that every
 * folder this project publishes carries as {@code provenance.json}: what wrote it, from what, with
 * which options, the full model spec, and the source's own record as its parent.
 */
package dev.upcycle.provenance;
