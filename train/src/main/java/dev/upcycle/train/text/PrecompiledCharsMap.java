package dev.upcycle.train.text;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * SentencePiece's {@code precompiled_charsmap}: {@code <u32 LE trie size><Darts-clone double
 * array of u32 units><NUL-separated normalized strings>}. A longest common-prefix search of the
 * UTF-8 input in the trie gives an offset into the string blob: the replacement text.
 *
 * <p>Double-array unit layout (darts-clone): bit 8 = has leaf, bits 0-7 (+ bit 31) = label,
 * value = low 31 bits, offset = {@code (unit >>> 10) << ((unit & (1 << 9)) >>> 6)}.
 */
final class PrecompiledCharsMap {

  private final int[] units;
  private final byte[] normalized;

  private PrecompiledCharsMap(int[] units, byte[] normalized) {
    this.units = units;
    this.normalized = normalized;
  }

  static PrecompiledCharsMap decode(byte[] blob, String source) {
    if (blob.length <= 4) {
      throw new SentencePieceFormatException(
          source + ": normalizer_spec.precompiled_charsmap is broken (" + blob.length + " bytes)");
    }
    ByteBuffer bb = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
    long trieBytes = Integer.toUnsignedLong(bb.getInt(0));
    if (trieBytes >= blob.length || trieBytes % 4 != 0) {
      throw new SentencePieceFormatException(source
          + ": normalizer_spec.precompiled_charsmap trie size " + trieBytes
          + " does not fit the " + blob.length + "-byte blob");
    }
    int[] units = new int[(int) (trieBytes / 4)];
    for (int i = 0; i < units.length; i++) {
      units[i] = bb.getInt(4 + 4 * i);
    }
    byte[] normalized = new byte[blob.length - 4 - (int) trieBytes];
    System.arraycopy(blob, 4 + (int) trieBytes, normalized, 0, normalized.length);
    return new PrecompiledCharsMap(units, normalized);
  }

  /**
   * Longest key of the map that is a prefix of {@code key[pos, end)}: returns its length (0 if
   * none) and stores the string-blob offset of its replacement in {@code value[0]}.
   */
  int longestPrefix(byte[] key, int pos, int end, int[] value) {
    if (units.length == 0) {
      return 0;
    }
    int longest = 0;
    long nodePos = offset(units[0]);
    for (int i = pos; i < end; i++) {
      int c = key[i] & 0xff;
      nodePos ^= c;
      if (nodePos < 0 || nodePos >= units.length) {
        return longest;
      }
      int unit = units[(int) nodePos];
      if (label(unit) != c) {
        return longest;
      }
      nodePos ^= offset(unit);
      if (hasLeaf(unit)) {
        if (nodePos < 0 || nodePos >= units.length) {
          return longest;
        }
        longest = i + 1 - pos;
        value[0] = units[(int) nodePos] & 0x7fffffff;
      }
    }
    return longest;
  }

  /** Length in bytes of the replacement string at {@code offset}. */
  int replacementLength(int offset) {
    int i = offset;
    while (i < normalized.length && normalized[i] != 0) {
      i++;
    }
    return i - offset;
  }

  byte replacementByte(int index) {
    return normalized[index];
  }

  private static boolean hasLeaf(int unit) {
    return ((unit >>> 8) & 1) == 1;
  }

  private static int label(int unit) {
    return unit & ((1 << 31) | 0xff);
  }

  private static long offset(int unit) {
    return Integer.toUnsignedLong((unit >>> 10) << ((unit & (1 << 9)) >>> 6));
  }
}
