package dev.upcycle.plan;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.upcycle.ckpt.TensorInfo;

/**
 * One step of an {@link UpcyclePlan}: which source tensor (canonical name) gives which target.
 *
 * @param kind what is done
 * @param source the dense tensor read; null for fresh tensors
 * @param target the tensor written; null for DROP
 * @param ffAxis the axis of the source that holds the d_ff units (wi kernel 1, wi bias 0, wo
 *     kernel 0), or -1 when it has none (wo bias) or the rule is not an expert rule
 * @param mlp the MLP prefix ({@code encoder/layers_1/mlp}) of expert, slot and router rules, else null
 * @param scale what every expert copy of a TILE / GRANULAR rule is multiplied by
 *     ({@link GranularScaling#factor}); 1 for every other rule
 * @param note why (shown in reports)
 */
public record Rule(Kind kind, TensorInfo source, TensorInfo target, int ffAxis, String mlp, double scale,
    String note) {

  /** What a rule does. */
  public enum Kind {
    /** Copied unchanged. */
    COPY,
    /** Tiled to E copies along a new axis 0 (optionally noised / partly re-initialised). */
    TILE,
    /** Cut into G chunks of d_ff units; expert e gets chunk e mod G (scaled per {@link GranularScaling}). */
    GRANULAR,
    /** An optimizer slot of a dense MLP parameter tiled to [E, ...] (exact copies). */
    TILE_SLOT,
    /** A new router kernel [d, E] from the router initializer. */
    FRESH_ROUTER,
    /** A new optimizer slot of a router: zeros. */
    FRESH_SLOT,
    /** Not written (optimizer state under RESET, or dropped by the name map). */
    DROP
  }

  public Rule {
    checkNotNull(kind, "kind");
    checkNotNull(note, "note");
    checkArgument(kind == Kind.DROP || target != null, "%s rule needs a target", kind);
    checkArgument(kind == Kind.DROP ? source != null && target == null : true, "DROP rule needs a source only");
    checkArgument((kind == Kind.FRESH_ROUTER || kind == Kind.FRESH_SLOT) == (source == null),
        "%s rule: source %s", kind, source);
    checkArgument(scale > 0 && Double.isFinite(scale), "%s rule: scale must be > 0, got %s", kind, scale);
    checkArgument(scale == 1.0 || kind == Kind.TILE || kind == Kind.GRANULAR, "%s rule: only expert rules scale, got %s",
        kind, scale);
  }

  static Rule copy(TensorInfo source, String note) {
    return new Rule(Kind.COPY, source, source, -1, null, 1.0, note);
  }

  static Rule drop(TensorInfo source, String note) {
    return new Rule(Kind.DROP, source, null, -1, null, 1.0, note);
  }

  /** Bytes read from the source (0 for fresh and dropped tensors). */
  public long bytesRead() {
    return source == null || kind == Kind.DROP ? 0 : Math.max(0, source.byteSize());
  }

  /** Bytes written (0 for DROP). */
  public long bytesWritten() {
    return target == null ? 0 : Math.max(0, target.byteSize());
  }

  @Override
  public String toString() {
    return kind + " " + (source == null ? "(fresh)" : source.toString()) + " -> "
        + (target == null ? "(dropped)" : target.toString()) + "  # " + note;
  }
}
