package dev.upcycle.train.text;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * SentencePiece normalisation, byte-exact with the model's own table: each longest prefix of the
 * UTF-8 input found in the precompiled character map is replaced by its normalized string (other
 * characters pass through; malformed UTF-8 becomes U+FFFD); user-defined pieces pass unchanged.
 * Then whitespace handling per {@link NormalizerSpec}: leading, trailing and repeated spaces
 * dropped ({@code remove_extra_whitespaces}), a dummy-prefix space added
 * ({@code add_dummy_prefix}) and spaces written as U+2581 ({@code escape_whitespaces}).
 */
final class TextNormalizer {

  static final String SPACE_SYMBOL = "\u2581";
  private static final byte[] SPACE_SYMBOL_BYTES = SPACE_SYMBOL.getBytes(StandardCharsets.UTF_8);
  private static final byte[] SPACE = {' '};
  private static final byte[] REPLACEMENT_CHAR = "\uFFFD".getBytes(StandardCharsets.UTF_8);

  private final NormalizerSpec spec;
  private final PrecompiledCharsMap charsMap; // null: identity
  private final byte[][] userDefined;

  TextNormalizer(NormalizerSpec spec, PrecompiledCharsMap charsMap, Set<String> userDefined) {
    this.spec = spec;
    this.charsMap = charsMap;
    this.userDefined = userDefined.stream()
        .map(s -> s.getBytes(StandardCharsets.UTF_8))
        .toArray(byte[][]::new);
  }

  /** One normalisation step: the replacement bytes and how many input bytes they consume. */
  private record Step(byte[] out, int consumed) {}

  String normalize(String text) {
    byte[] in = text.getBytes(StandardCharsets.UTF_8);
    int pos = 0;
    if (spec.removeExtraWhitespaces()) {
      while (pos < in.length) {
        Step s = prefix(in, pos);
        if (s.out().length != 1 || s.out()[0] != ' ') {
          break;
        }
        pos += s.consumed();
      }
    }
    if (pos == in.length) {
      return "";
    }
    ByteSink out = new ByteSink();
    if (spec.addDummyPrefix()) {
      out.add(spec.escapeWhitespaces() ? SPACE_SYMBOL_BYTES : SPACE);
    }
    boolean prevSpace = spec.removeExtraWhitespaces();
    while (pos < in.length) {
      Step s = prefix(in, pos);
      byte[] sp = s.out();
      int i = 0;
      while (prevSpace && i < sp.length && sp[i] == ' ') {
        i++;
      }
      if (i < sp.length) {
        for (int j = i; j < sp.length; j++) {
          if (spec.escapeWhitespaces() && sp[j] == ' ') {
            out.add(SPACE_SYMBOL_BYTES);
          } else {
            out.add(sp[j]);
          }
        }
        prevSpace = sp[sp.length - 1] == ' ';
      }
      pos += s.consumed();
      if (!spec.removeExtraWhitespaces()) {
        prevSpace = false;
      }
    }
    if (spec.removeExtraWhitespaces()) {
      byte[] space = spec.escapeWhitespaces() ? SPACE_SYMBOL_BYTES : SPACE;
      while (out.endsWith(space)) {
        out.truncate(out.size() - space.length);
      }
    }
    return out.utf8();
  }

  private Step prefix(byte[] in, int pos) {
    int userLen = 0;
    for (byte[] u : userDefined) {
      if (u.length > userLen && startsWith(in, pos, u)) {
        userLen = u.length;
      }
    }
    if (userLen > 0) {
      return new Step(java.util.Arrays.copyOfRange(in, pos, pos + userLen), userLen);
    }
    if (charsMap != null) {
      int[] value = new int[1];
      int len = charsMap.longestPrefix(in, pos, in.length, value);
      if (len > 0) {
        byte[] rep = new byte[charsMap.replacementLength(value[0])];
        for (int i = 0; i < rep.length; i++) {
          rep[i] = charsMap.replacementByte(value[0] + i);
        }
        return new Step(rep, len);
      }
    }
    int len = validUtf8Length(in, pos);
    if (len == 0) {
      return new Step(REPLACEMENT_CHAR, 1);
    }
    return new Step(java.util.Arrays.copyOfRange(in, pos, pos + len), len);
  }

  private static boolean startsWith(byte[] in, int pos, byte[] prefix) {
    if (in.length - pos < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (in[pos + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** Length of the well-formed UTF-8 character at {@code pos}, or 0 if malformed. */
  static int validUtf8Length(byte[] in, int pos) {
    int b = in[pos] & 0xff;
    int len;
    int min;
    if (b < 0x80) {
      return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      min = 0x10000;
    } else {
      return 0;
    }
    if (pos + len > in.length) {
      return 0;
    }
    int cp = b & (0xff >> (len + 1));
    for (int i = 1; i < len; i++) {
      int c = in[pos + i] & 0xff;
      if ((c & 0xc0) != 0x80) {
        return 0;
      }
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return 0;
    }
    return len;
  }
}
