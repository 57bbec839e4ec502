package dev.upcycle.train.text;

import static com.google.common.base.Preconditions.checkNotNull;

/**
 * A SentencePiece {@code NormalizerSpec}: rule name ({@code nmt_nfkc}, {@code nfkc},
 * {@code identity}, ...), the size of its precompiled character map, and the whitespace flags.
 */
public record NormalizerSpec(
    String name,
    int precompiledCharsmapBytes,
    boolean addDummyPrefix,
    boolean removeExtraWhitespaces,
    boolean escapeWhitespaces) {

  public NormalizerSpec {
    checkNotNull(name, "name");
  }
}
