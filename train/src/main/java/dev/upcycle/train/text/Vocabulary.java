package dev.upcycle.train.text;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Pieces by id and id by piece. {@link #segmentable} holds the pieces a segmenter may produce
 * (NORMAL, USER_DEFINED, UNUSED, as SentencePiece does); {@link #toId} looks up every piece.
 */
final class Vocabulary {

  final String[] pieces;
  final float[] scores;
  final PieceType[] types;
  final Map<String, Integer> segmentable = new HashMap<>();
  final Map<String, Integer> all = new HashMap<>();
  final int unkId;
  /** Lowest NORMAL score; {@code Float.MAX_VALUE} if there is none (upstream's FLT_MAX). */
  final float minScore;
  /**
   * Highest NORMAL score, but never below {@code Float.MIN_NORMAL}: SentencePiece 0.1.97's
   * unigram {@code Model} starts its maximum at {@code FLT_MIN} (the smallest positive normal
   * float), so for the usual all-negative log-probability scores it stays at FLT_MIN.
   */
  final float maxScore;
  final int maxPieceChars;

  Vocabulary(List<ModelProtoReader.Piece> list, String source) {
    int n = list.size();
    pieces = new String[n];
    scores = new float[n];
    types = new PieceType[n];
    int unk = -1;
    float min = Float.MAX_VALUE;
    float max = Float.MIN_NORMAL;
    int maxChars = 1;
    for (int i = 0; i < n; i++) {
      ModelProtoReader.Piece p = list.get(i);
      pieces[i] = p.piece();
      scores[i] = p.score();
      types[i] = p.type();
      if (all.putIfAbsent(p.piece(), i) != null) {
        throw new SentencePieceFormatException(
            source + ": piece '" + p.piece() + "' (id " + i + ") is defined twice");
      }
      switch (p.type()) {
        case NORMAL, USER_DEFINED, UNUSED -> {
          segmentable.put(p.piece(), i);
          maxChars = Math.max(maxChars, p.piece().length());
        }
        case UNKNOWN -> {
          if (unk >= 0) {
            throw new SentencePieceFormatException(
                source + ": more than one UNKNOWN piece (ids " + unk + " and " + i + ")");
          }
          unk = i;
        }
        default -> { }
      }
      if (p.type() == PieceType.NORMAL) {
        min = Math.min(min, p.score());
        max = Math.max(max, p.score());
      }
    }
    if (unk < 0) {
      throw new SentencePieceFormatException(source + ": the model has no UNKNOWN piece");
    }
    unkId = unk;
    minScore = min;
    maxScore = max;
    maxPieceChars = maxChars;
  }

  int size() {
    return pieces.length;
  }

  /** Id of any piece, or the unknown id (as SentencePiece's PieceToId). */
  int toId(String piece) {
    Integer id = all.get(piece);
    return id == null ? unkId : id;
  }
}
