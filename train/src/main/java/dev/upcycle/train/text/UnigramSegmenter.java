package dev.upcycle.train.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * UNIGRAM segmentation: the Viterbi path over every vocabulary piece found in the normalized
 * text, maximising the sum of piece scores (float32, as SentencePiece). A character not covered
 * by a one-character piece also gets an unknown node scored {@code min_score - 10}. USER_DEFINED
 * pieces score {@code utf8_length * max_score - 0.1}; UNUSED pieces are never chosen. Ties keep
 * the first candidate (shorter end first, earlier start first).
 */
final class UnigramSegmenter {

  private static final float UNK_PENALTY = 10.0f;

  private final Vocabulary vocab;

  UnigramSegmenter(Vocabulary vocab) {
    this.vocab = vocab;
  }

  List<Token> segment(String text) {
    int n = text.length();
    float[] best = new float[n + 1];
    int[] startsAt = new int[n + 1];
    int[] ids = new int[n + 1];
    java.util.Arrays.fill(startsAt, -1);
    float unkScore = vocab.minScore - UNK_PENALTY;
    int start = 0;
    while (start < n) {
      float tillHere = best[start];
      int charLen = Character.charCount(text.codePointAt(start));
      boolean hasSingle = false;
      int end = start;
      int chars = 0;
      while (end < n && chars < vocab.maxPieceChars) {
        end += Character.charCount(text.codePointAt(end));
        chars = end - start;
        Integer id = vocab.segmentable.get(text.substring(start, end));
        if (id == null || vocab.types[id] == PieceType.UNUSED) {
          continue;
        }
        float score = vocab.types[id] == PieceType.USER_DEFINED
            ? text.substring(start, end).getBytes(StandardCharsets.UTF_8).length * vocab.maxScore
                - 0.1f
            : vocab.scores[id];
        float candidate = score + tillHere;
        if (startsAt[end] == -1 || candidate > best[end]) {
          best[end] = candidate;
          startsAt[end] = start;
          ids[end] = id;
        }
        if (end - start == charLen) {
          hasSingle = true;
        }
      }
      if (!hasSingle) {
        int e = start + charLen;
        float candidate = unkScore + tillHere;
        if (startsAt[e] == -1 || candidate > best[e]) {
          best[e] = candidate;
          startsAt[e] = start;
          ids[e] = vocab.unkId;
        }
      }
      start += charLen;
    }
    List<Token> out = new ArrayList<>();
    int end = n;
    while (end > 0) {
      int s = startsAt[end];
      out.add(new Token(text.substring(s, end), ids[end]));
      end = s;
    }
    Collections.reverse(out);
    return out;
  }
}
