package dev.upcycle.ckpt.names;

import dev.upcycle.model.names.CanonicalNames;

/**
 * Names as {@link dev.upcycle.ckpt.t5x.T5xCheckpointReader} lists them ({@code target/...},
 * {@code state/...}) ↔ canonical names (no {@code target/} prefix; optimizer state keeps {@code
 * state/}).
 */
public final class T5xNames {

  private static final NameMap FROM_T5X = NameMap.of(
      NameMap.Rule.map("target/(.*)", "$1"),
      NameMap.Rule.map("state/(.*)", CanonicalNames.STATE + "$1"));

  private static final NameMap TO_T5X = NameMap.of(
      NameMap.Rule.map(CanonicalNames.STATE + "(.*)", "state/$1"),
      NameMap.Rule.map("(.*)", "target/$1"));

  private T5xNames() {}

  /** {@code target/(.*)} → {@code $1}, {@code state/(.*)} → {@code state/$1}; anything else unmapped. */
  public static NameMap fromT5x() {
    return FROM_T5X;
  }

  /** The inverse, for {@link dev.upcycle.ckpt.t5x.T5xCheckpointWriter}: {@code state/} kept, all else under {@code target/}. */
  public static NameMap toT5x() {
    return TO_T5X;
  }
}
