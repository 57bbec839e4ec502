package dev.upcycle.train.text;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * BPE segmentation: start from single characters (user-defined pieces stay whole and frozen),
 * then repeatedly merge the adjacent pair whose concatenation is the vocabulary piece with the
 * highest score (ties: leftmost). Merges through UNUSED pieces are split back into their parts.
 * A final symbol not in the vocabulary gets the unknown id.
 */
final class BpeSegmenter {

  private final Vocabulary vocab;
  private final List<String> userDefined;

  BpeSegmenter(Vocabulary vocab, Set<String> userDefined) {
    this.vocab = vocab;
    this.userDefined = new ArrayList<>(userDefined);
  }

  private record Pair(int left, int right, float score, int size) {}

  List<Token> segment(String text) {
    // symbols are contiguous ranges [start, end) of text, linked by prev/next
    int cap = text.length();
    int[] start = new int[cap];
    int[] end = new int[cap];
    int[] prev = new int[cap];
    int[] next = new int[cap];
    boolean[] frozen = new boolean[cap];
    int count = 0;
    int pos = 0;
    while (pos < text.length()) {
      int len = 0;
      for (String u : userDefined) {
        if (u.length() > len && text.startsWith(u, pos)) {
          len = u.length();
        }
      }
      frozen[count] = len > 0;
      if (len == 0) {
        len = Character.charCount(text.codePointAt(pos));
      }
      start[count] = pos;
      end[count] = pos + len;
      prev[count] = count - 1;
      next[count] = pos + len < text.length() ? count + 1 : -1;
      count++;
      pos += len;
    }
    if (count == 0) {
      return List.of();
    }
    PriorityQueue<Pair> agenda = new PriorityQueue<>((a, b) -> {
      int c = Float.compare(b.score(), a.score());
      return c != 0 ? c : Integer.compare(a.left(), b.left());
    });
    Map<String, String[]> reverseMerge = new HashMap<>();
    for (int i = 1; i < count; i++) {
      maybeAdd(text, i - 1, i, start, end, frozen, agenda, reverseMerge);
    }
    while (!agenda.isEmpty()) {
      Pair top = agenda.poll();
      int l = top.left();
      int r = top.right();
      int lenL = end[l] - start[l];
      int lenR = end[r] - start[r];
      if (lenL == 0 || lenR == 0 || lenL + lenR != top.size()) {
        continue; // stale pair
      }
      end[l] = end[r];
      next[l] = next[r];
      if (next[r] >= 0) {
        prev[next[r]] = l;
      }
      end[r] = start[r]; // empty
      maybeAdd(text, prev[l], l, start, end, frozen, agenda, reverseMerge);
      maybeAdd(text, l, next[l], start, end, frozen, agenda, reverseMerge);
    }
    List<Token> out = new ArrayList<>();
    for (int i = 0; i != -1; i = next[i]) {
      resegment(text.substring(start[i], end[i]), reverseMerge, out);
    }
    return out;
  }

  private void maybeAdd(String text, int l, int r, int[] start, int[] end, boolean[] frozen,
      PriorityQueue<Pair> agenda, Map<String, String[]> reverseMerge) {
    if (l == -1 || r == -1 || frozen[l] || frozen[r]) {
      return;
    }
    String piece = text.substring(start[l], end[r]);
    Integer id = vocab.segmentable.get(piece);
    if (id == null) {
      return;
    }
    agenda.add(new Pair(l, r, vocab.scores[id], piece.length()));
    if (vocab.types[id] == PieceType.UNUSED) {
      reverseMerge.put(piece, new String[] {
        text.substring(start[l], end[l]), text.substring(start[r], end[r])
      });
    }
  }

  private void resegment(String w, Map<String, String[]> reverseMerge, List<Token> out) {
    int id = vocab.toId(w);
    String[] parts = reverseMerge.get(w);
    if (vocab.types[id] != PieceType.UNUSED || parts == null) {
      out.add(new Token(w, id));
      return;
    }
    resegment(parts[0], reverseMerge, out);
    resegment(parts[1], reverseMerge, out);
  }
}
