package dev.upcycle.train.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * UNIGRAM segmentation: the Viterbi path over every vocabulary piece found in the normalized
 * text, maximising the sum of piece scores.
 *
 * <p>This follows {@code sentencepiece::unigram::Model::EncodeOptimized} of SentencePiece 0.1.97
 * ({@code src/unigram_model.cc}, the default encoder of {@code spm_encode} in that release and the
 * one Debian ships), arithmetic included, so that ties and near-ties break the same way:
 * <ul>
 *   <li>the best score ending at each position is stored as a float;
 *   <li>a piece candidate is computed in double ({@code score + best_till_here}, where a piece's
 *       score is its float score, or {@code utf8_length * max_score - 0.1} in double for a
 *       USER_DEFINED piece) and compared in double with the stored float, then stored rounded to
 *       float;
 *   <li>the unknown-node candidate ({@code min_score - 10}, when no one-character piece covers the
 *       character) is float plus float, compared in float;
 *   <li>a candidate replaces the stored one only if strictly greater (the first of equal
 *       candidates stays: shorter end first, earlier start first); UNUSED pieces are skipped.
 * </ul>
 * {@code min_score} and {@code max_score} are over NORMAL pieces, with upstream's initial values
 * (see {@link Vocabulary#maxScore}).
 */
final class UnigramSegmenter {

  /** {@code kUnkPenalty} of unigram_model.cc (a float). */
  private static final float UNK_PENALTY = 10.0f;
  /** The double constant subtracted from a USER_DEFINED piece's bonus. */
  private static final double USER_DEFINED_OFFSET = 0.1;

  private final Vocabulary vocab;

  UnigramSegmenter(Vocabulary vocab) {
    this.vocab = vocab;
  }

  List<Token> segment(String text) {
    int n = text.length();
    // best path ending at each UTF-16 position [n + 1]: its score, where its last piece starts
    // (-1: no path yet) and that piece's id
    float[] best = new float[n + 1];
    int[] startsAt = new int[n + 1];
    int[] ids = new int[n + 1];
    Arrays.fill(startsAt, -1);
    float unkScore = vocab.minScore - UNK_PENALTY;
    int start = 0;
    while (start < n) {
      float tillHere = best[start];
      int charLen = Character.charCount(text.codePointAt(start));
      boolean hasSingle = false;
      int end = start;
      while (end < n && end - start < vocab.maxPieceChars) {
        end += Character.charCount(text.codePointAt(end));
        Integer id = vocab.segmentable.get(text.substring(start, end));
        if (id == null || vocab.types[id] == PieceType.UNUSED) {
          continue;
        }
        double score = vocab.types[id] == PieceType.USER_DEFINED
            ? userDefinedScore(text.substring(start, end))
            : vocab.scores[id];
        double candidate = score + tillHere;
        if (startsAt[end] == -1 || candidate > best[end]) {
          best[end] = (float) candidate;
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

  /**
   * {@code length * max_score_ - 0.1} with upstream's types: the UTF-8 byte length (a size_t)
   * times the float max score is a float product; subtracting the double 0.1 makes it a double.
   */
  private double userDefinedScore(String piece) {
    float product = piece.getBytes(StandardCharsets.UTF_8).length * vocab.maxScore;
    return product - USER_DEFINED_OFFSET;
  }
}
